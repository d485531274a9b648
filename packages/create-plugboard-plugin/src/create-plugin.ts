import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import {
  checkPackageName,
  checkPluginId,
  classNameFromId,
  displayNameFromId,
  idFromPackageName,
} from './names.js';
import { ScaffoldError } from './scaffold-error.js';
import { type PluginSpec, pluginFiles } from './template.js';

/** What to create and where. */
export interface CreatePluginOptions {
  /** The folder to write the package into, relative to `cwd`; it must be new or empty. */
  readonly target: string;
  /** The npm package name. @default the target folder's name */
  readonly packageName?: string;
  /** The plugin id. @default the package name without its scope and a `plugboard-plugin-` prefix */
  readonly id?: string;
  /** The folder `target` is relative to. */
  readonly cwd: string;
}

/** What was created. */
export interface CreatedPlugin {
  /** The absolute path of the new package. */
  readonly dir: string;
  /** The package name, plugin id and class written. */
  readonly spec: PluginSpec;
  /** The files written, relative to `dir`. */
  readonly files: readonly string[];
}

/**
 * The range of `@plugboard/core` a plugin built against `version` accepts: the same range the SDK's own packages
 * use. Before 1.0 a caret would pin the minor (`^0.1.0` refuses 0.2.0), so a 0.x release accepts every later
 * 0.x; from 1.0 on, the major.
 */
export function compatibleRange(version: string): string {
  return version.startsWith('0.') ? `>=${version} <1.0.0` : `^${version}`;
}

/**
 * The release this scaffolder belongs to. It is released together with `@plugboard/core` and
 * `@plugboard/testing` at the same version, so its own version is the one the new package depends on.
 */
function plugboardRange(): string {
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
  return compatibleRange(version);
}

// A folder holding only these is as good as empty: `git init` first is a common way to start.
const IGNORED_ENTRIES = new Set(['.git']);

function checkTarget(dir: string, shown: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) {
    throw new ScaffoldError(`\`${shown}\` exists and is not a folder: choose a new folder.`, 1);
  }
  const entries = readdirSync(dir).filter((name) => !IGNORED_ENTRIES.has(name));
  if (entries.length > 0) {
    const listed = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', ...' : '');
    throw new ScaffoldError(
      `\`${shown}\` is not empty (it holds ${listed}): choose a new folder, or empty this one first. ` +
        'Nothing was written.',
      1,
    );
  }
}

/** Checks the names and the target folder, then writes a new plugin package. Throws a {@link ScaffoldError}. */
export function createPlugin(options: CreatePluginOptions): CreatedPlugin {
  const dir = resolve(options.cwd, options.target);
  const shown = relative(options.cwd, dir) || '.';
  const packageName = options.packageName ?? basename(dir);
  checkPackageName(
    packageName,
    options.packageName === undefined ? `The folder name \`${packageName}\`` : `--name \`${packageName}\``,
  );
  const id = options.id ?? idFromPackageName(packageName);
  checkPluginId(id, options.id === undefined ? `The id \`${id}\` (from the package name)` : `--id \`${id}\``);
  checkTarget(dir, shown);

  const spec: PluginSpec = {
    packageName,
    id,
    className: classNameFromId(id),
    displayName: displayNameFromId(id),
    plugboardRange: plugboardRange(),
  };
  const files = pluginFiles(spec);
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path);
    try {
      mkdirSync(dirname(file), { recursive: true });
      // `wx`: never overwrite a file that appeared after the folder was checked.
      writeFileSync(file, content, { flag: 'wx' });
    } catch (error) {
      throw new ScaffoldError(`Could not write \`${join(shown, path)}\`: ${(error as Error).message}`, 1);
    }
  }
  return { dir, spec, files: Object.keys(files) };
}
