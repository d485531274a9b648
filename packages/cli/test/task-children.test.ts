import { PassThrough } from 'node:stream';
import { ActionPlugin, type Host, Task, type TaskContext, type TaskRecord, Type } from '@plugboard/core';
import { createTestHost } from '@plugboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

/** Holds the photos until the test lets them finish. */
let release: () => void = () => {};
let released = Promise.resolve();

class PhotoTask extends Task<{ image: string }, string> {
  async run() {
    await released;
    return `${this.input.image}.png`;
  }
}

/** Starts one child task per photo, then waits for them all. */
class AlbumTask extends Task<{ images: string[] }, number> {
  async run(ctx: TaskContext) {
    const children = [];
    for (const image of this.input.images) children.push(await ctx.spawn(new PhotoTask({ image })));
    const ends = await Promise.all(children.map((child) => child.wait()));
    return ends.filter((end) => end.state === 'succeeded').length;
  }
}

/** Two tasks at a time: the album and its first photo run, the other photos wait for a slot. */
class AlbumPlugin extends ActionPlugin({
  id: 'album',
  name: 'Album',
  args: Type.Object({ images: Type.Array(Type.String()) }),
  tasks: [AlbumTask, PhotoTask],
  limits: { concurrency: 2 },
}) {
  createTasks(args: { images: string[] }) {
    return new AlbumTask(args);
  }
}

const hosts: Host[] = [];
/** Albums still running: they end before their host stops, which would leave their queued photos waiting. */
const albums: Array<{ host: Host; id: string }> = [];
afterEach(async () => {
  release();
  for (const { host, id } of albums.splice(0)) await host.tasks.wait(id);
  for (const host of hosts.splice(0)) await host.stop();
});

async function cli(host: Host, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  let errText = '';
  out.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  err.setEncoding('utf8').on('data', (chunk: string) => {
    errText += chunk;
  });
  const code = await runCli(host, args, {
    from: 'user',
    name: 'tool',
    stdout: out,
    stderr: err,
    env: {},
    handleSignals: false,
  });
  return { code, out: text, err: errText };
}

/** A host running an album of three photos: one photo runs, two wait for a slot of the plugin. */
async function albumHost(): Promise<{ host: Host; parentId: string; children: TaskRecord[] }> {
  released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const host = await createTestHost({ plugins: [AlbumPlugin], concurrency: 8 });
  hosts.push(host);
  const { tasks } = await host.execute('album', { images: ['a', 'b', 'c'] });
  const parentId = tasks[0]!.id;
  albums.push({ host, id: parentId });
  let children: TaskRecord[] = [];
  await expect
    .poll(async () => {
      children = await host.tasks.children(parentId);
      return children.filter((child) => child.waitingReason).length;
    })
    .toBe(2);
  return { host, parentId, children };
}

describe('`tasks` with child tasks and per-plugin limits', () => {
  it('the list shows why a queued task waits', async () => {
    const { host, children } = await albumHost();
    const { code, out } = await cli(host, ['tasks']);
    expect(code).toBe(0);
    const waiting = children.filter((child) => child.waitingReason);
    for (const child of waiting) {
      expect(out).toMatch(
        new RegExp(`^${child.id}\\s+Album\\s+queued \\(waiting for a slot of plugin album\\)\\s+0%`, 'm'),
      );
    }
    const running = children.find((child) => !child.waitingReason)!;
    expect(out).toMatch(new RegExp(`^${running.id}\\s+Album\\s+running\\s+0%`, 'm'));
  });

  it('--json carries the waiting reason and the parent of every task', async () => {
    const { host, parentId, children } = await albumHost();
    const { tasks } = JSON.parse((await cli(host, ['tasks', '--json'])).out) as {
      tasks: Array<{ id: string; parentId: string | null; waitingReason: string | null }>;
    };
    expect(tasks.find((t) => t.id === parentId)).toMatchObject({ parentId: null, waitingReason: null });
    for (const child of children) {
      expect(tasks.find((t) => t.id === child.id)).toMatchObject({
        parentId,
        waitingReason: child.waitingReason ?? null,
      });
    }
  });

  it('`tasks <id>` shows a parent with its children and their states, and a child with its parent', async () => {
    const { host, parentId, children } = await albumHost();
    const parent = await cli(host, ['tasks', parentId]);
    expect(parent.code).toBe(0);
    expect(parent.out).toMatch(new RegExp(`^id:\\s+${parentId}$`, 'm'));
    expect(parent.out).toMatch(/^state:\s+running$/m);
    expect(parent.out).not.toMatch(/^parent:/m);
    expect(parent.out).toContain('children (3):');
    for (const child of children) {
      const state = child.waitingReason ? 'queued \\(waiting for a slot of plugin album\\)' : 'running';
      expect(parent.out).toMatch(new RegExp(`^${child.id}\\s+Album\\s+${state}\\s+0%$`, 'm'));
    }

    const waiting = children.find((child) => child.waitingReason)!;
    const child = await cli(host, ['tasks', waiting.id]);
    expect(child.out).toMatch(/^state:\s+queued$/m);
    expect(child.out).toMatch(/^waiting:\s+waiting for a slot of plugin album$/m);
    expect(child.out).toMatch(new RegExp(`^parent:\\s+${parentId}$`, 'm'));
    expect(child.out).not.toContain('children');

    release();
    await host.tasks.wait(parentId);
    const json = JSON.parse((await cli(host, ['tasks', parentId, '--json'])).out);
    expect(json.task).toMatchObject({ id: parentId, state: 'succeeded', result: 3, parentId: null });
    expect(json.children.map((c: TaskRecord) => [c.id, c.state, c.parentId, c.waitingReason])).toEqual(
      children.map((c) => [c.id, 'succeeded', parentId, null]),
    );
  });

  it('`tasks <id>` of an unknown task says so and exits non-zero', async () => {
    const host = await createTestHost({ plugins: [AlbumPlugin] });
    hosts.push(host);
    const { code, err } = await cli(host, ['tasks', 'nope', '--json']);
    expect(code).not.toBe(0);
    expect(JSON.parse(err).error.code).toBe('PLUGBOARD_UNKNOWN_TASK');
  });
});
