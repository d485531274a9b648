import { existsSync, readFileSync } from 'node:fs';
import { ActionPlugin, createHost, type Static, Task, type TaskContext, Type } from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-secrets-');
afterAll(() => folder.remove());

const SECRET = 'db-password-93c1f0e7aa';
const MARKER = 'plain-marker-5b2e';
const Props = Type.Object({ password: Type.String({ writeOnly: true }), host: Type.String() });

class ConnectTask extends Task<{ mode: string; copy?: string }> {
  async run(ctx: TaskContext) {
    const { password, host } = ctx.properties as Static<typeof Props>;
    ctx.log.info(`connecting to ${host} with ${password}`);
    ctx.status(`logged in as admin:${password}`);
    ctx.progress(10, `password ${password} accepted`);
    if (this.input.mode === 'throw') throw new Error(`authentication failed for ${password}`);
    if (this.input.mode === 'fail') ctx.fail(`refused ${password}`);
    return { dsn: `postgres://admin:${password}@${host}/db` };
  }
}

class ConnectPlugin extends ActionPlugin({
  id: 'connect',
  name: 'Connect',
  args: Type.Object({ mode: Type.String() }),
  properties: Props,
  tasks: [ConnectTask],
}) {
  createTasks(args: { mode: string }) {
    return new ConnectTask({ mode: args.mode, copy: this.properties.password });
  }
}

class StalePlugin extends ActionPlugin({
  id: 'stale',
  name: 'Stale',
  properties: Props,
  tasks: [ConnectTask],
}) {
  override isReady() {
    return {
      ready: false,
      reason: `Password ${this.properties.password} expired on ${this.properties.host}.`,
    };
  }
  createTasks() {}
}

function fileBytes(path: string): Buffer {
  return Buffer.concat(
    [path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
  );
}

describe('secret App Properties in the SQLite file', () => {
  it('never reach the database file, its WAL or the catalogue, while the host runs or after it stops', async () => {
    const path = folder.file('secrets');
    const host = createHost({
      env: false,
      argv: [],
      store: sqliteStore({ path }),
      plugins: { classes: [ConnectPlugin, StalePlugin] },
      properties: {
        connect: { password: SECRET, host: MARKER },
        stale: { password: SECRET, host: MARKER },
      },
    });
    await host.start();
    const records = [];
    for (const mode of ['ok', 'throw', 'fail']) {
      const { tasks } = await host.execute('connect', { mode });
      records.push(await host.tasks.wait(tasks[0]!.id));
    }
    expect(records.map((r) => r.state)).toEqual(['succeeded', 'failed', 'failed']);
    expect(records[0]).toMatchObject({
      input: { mode: 'ok', copy: '[secret]' },
      result: { dsn: `postgres://admin:[secret]@${MARKER}/db` },
      statusText: 'logged in as admin:[secret]',
    });
    expect((await host.tasks.logs(records[1]!.id)).map((l) => l.message)).toEqual([
      `connecting to ${MARKER} with [secret]`,
    ]);
    expect(host.plugins.get('stale')?.reason).toBe(`Password [secret] expired on ${MARKER}.`);

    // Reads commit what is queued: the file and its WAL now hold every write made so far.
    await host.tasks.list();
    const running = fileBytes(path);
    expect(running.includes(MARKER)).toBe(true);
    expect(running.includes('[secret]')).toBe(true);
    expect(running.includes(SECRET)).toBe(false);

    await host.stop();
    const stopped = fileBytes(path);
    expect(stopped.includes(MARKER)).toBe(true);
    expect(stopped.includes(SECRET)).toBe(false);
  });
});
