import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder in the OS temp dir for one test file's databases; `remove()` deletes it. */
export function tempDatabaseFolder(prefix = 'plugboard-sqlite-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    dir,
    /** A path for a new database file in the folder. */
    file: (name = 'store') => join(dir, `${name}-${++n}.db`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
