import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, postJson, problemOf, startServer, type TestServer } from './helpers.js';
import { EventStreamClient } from './sse-client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ heartbeatMs: 1000, eventBufferSize: 50 });
});
afterAll(() => server.close());

const open = (user: string, headers: Record<string, string> = {}) =>
  EventStreamClient.open(`${server.url}/events`, { 'x-user': user, ...headers });

async function run(user: string, args: Record<string, unknown>): Promise<string> {
  const response = await server.request(user, '/plugins/greet/execute', postJson({ args }));
  return (await response.json()).tasks[0].id;
}

describe('the event stream', () => {
  it('is text/event-stream and starts with a ready event carrying an id', async () => {
    const stream = await open('alice');
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toMatch(/no-cache/);
    const ready = await stream.next((e) => e.event === 'ready');
    expect(ready.id).toMatch(/^[0-9a-f]{8}-\d+$/);
    await stream.close();
  });

  it("a user's task events arrive in order with ids, from queued to finished, with progress and log", async () => {
    const stream = await open('alice');
    await stream.next((e) => e.event === 'ready');
    const id = await run('alice', { name: 'Ada', times: 2 });
    await stream.next((e) => e.event === 'task:finished' && JSON.parse(e.data).id === id);
    const mine = stream.received.filter((e) => e.event.startsWith('task:') && JSON.parse(e.data).id === id);
    expect(mine.map((e) => e.event)[0]).toBe('task:queued');
    expect(mine.map((e) => e.event)).toContain('task:started');
    expect(mine.map((e) => e.event)).toContain('task:log');
    expect(mine.at(-1)!.event).toBe('task:finished');
    const progress = stream.data('task:progress').filter((p) => p.id === id);
    expect(progress.at(-1)).toMatchObject({ progress: 100, statusText: 'Greeted 2 time(s)' });
    expect(stream.data('task:log').filter((l) => l.id === id)[0].entry.message).toBe('greeting 1 of 2');
    const finished = JSON.parse(mine.at(-1)!.data);
    expect(finished).toMatchObject({ state: 'succeeded', result: 'Hello, Ada! Hello, Ada!' });
    const seqs = mine.map((e) => Number(e.id!.split('-')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await stream.close();
  });

  it("a user never receives another user's task events; an administrator receives everyone's", async () => {
    const bob = await open('bob');
    const root = await open('root');
    await Promise.all([bob.next((e) => e.event === 'ready'), root.next((e) => e.event === 'ready')]);
    const id = await run('alice', { name: 'Private' });
    await root.next((e) => e.event === 'task:finished' && JSON.parse(e.data).id === id);
    const bobMarker = await run('bob', { name: 'Marker' });
    await bob.next((e) => e.event === 'task:finished' && JSON.parse(e.data).id === bobMarker);
    const seenByBob = bob.received.filter((e) => e.event.startsWith('task:')).map((e) => JSON.parse(e.data));
    expect(seenByBob.every((t) => (t.user?.id ?? t.userId) === 'bob')).toBe(true);
    expect(seenByBob.some((t) => t.id === id)).toBe(false);
    await Promise.all([bob.close(), root.close()]);
  });

  it('plugin status changes reach users who may see the plugin; schedule events only administrators', async () => {
    const alice = await open('alice');
    const root = await open('root');
    await Promise.all([alice.next((e) => e.event === 'ready'), root.next((e) => e.event === 'ready')]);
    await server.request('root', '/plugins/greet/disable', { method: 'POST' });
    await server.request('root', '/plugins/secret/disable', { method: 'POST' });
    await server.request('root', '/plugins/greet/enable', { method: 'POST' });
    await server.request('root', '/plugins/secret/enable', { method: 'POST' });
    await server.request('root', '/schedules/nightly/trigger', { method: 'POST' });
    await root.next((e) => e.event === 'schedule:fired');
    await alice.next((e) => e.event === 'plugin:status' && JSON.parse(e.data).status === 'operational');
    const aliceStatus = alice.data('plugin:status');
    expect(aliceStatus.map((s) => `${s.id}:${s.status}`)).toEqual(['greet:disabled', 'greet:operational']);
    expect(root.data('plugin:status').map((s) => s.id)).toContain('secret');
    expect(alice.received.some((e) => e.event === 'schedule:fired')).toBe(false);
    await Promise.all([alice.close(), root.close()]);
  });

  it('a plugin that cannot run is explained to viewers in words, and to administrators in full', async () => {
    const alice = await open('alice');
    const root = await open('root');
    await Promise.all([alice.next((e) => e.event === 'ready'), root.next((e) => e.event === 'ready')]);
    await server.request('root', '/plugins/offline/disable', { method: 'POST' });
    await server.request('root', '/plugins/offline/enable', { method: 'POST' });
    const notReady = (e: { event: string; data: string }) =>
      e.event === 'plugin:status' &&
      JSON.parse(e.data).id === 'offline' &&
      JSON.parse(e.data).status === 'not-ready';
    await Promise.all([alice.next(notReady), root.next(notReady)]);
    const reasons = (stream: EventStreamClient) =>
      stream.received.filter(notReady).map((e) => JSON.parse(e.data).reason);
    expect(reasons(root)).toEqual(['The translation service is unreachable; check TRANSLATE_URL.']);
    expect(reasons(alice)).toEqual([
      'This plugin is not ready yet; an administrator has been told what it needs.',
    ]);
    expect(JSON.stringify(alice.received)).not.toContain('TRANSLATE_URL');
    await Promise.all([alice.close(), root.close()]);
  });

  it('a client reconnecting with Last-Event-ID receives exactly the events it missed', async () => {
    const first = await open('alice');
    await first.next((e) => e.event === 'ready');
    const before = await run('alice', { name: 'Before' });
    const finished = await first.next((e) => e.event === 'task:finished' && JSON.parse(e.data).id === before);
    await first.close();
    const missed = await run('alice', { name: 'While away', times: 2 });
    await server.host.tasks.wait(missed);
    const resumed = await open('alice', { 'Last-Event-ID': finished.id! });
    await resumed.next((e) => e.event === 'ready');
    const replayed = resumed.received.filter((e) => e.event.startsWith('task:'));
    expect(replayed.every((e) => JSON.parse(e.data).id === missed)).toBe(true);
    expect(replayed.map((e) => e.event)[0]).toBe('task:queued');
    expect(replayed.at(-1)!.event).toBe('task:finished');
    // Events logged while no stream was open are serialised when replayed, each as the task was at that event.
    const states = Object.fromEntries(
      replayed
        .filter((e) => e.event !== 'task:log' && e.event !== 'task:progress')
        .map((e) => [e.event, JSON.parse(e.data)]),
    );
    expect(states['task:queued']).toMatchObject({ state: 'queued', startedAt: null, user: { id: 'alice' } });
    expect(states['task:started']).toMatchObject({ state: 'running', finishedAt: null });
    expect(states['task:finished']).toMatchObject({
      state: 'succeeded',
      result: 'Hello, While away! Hello, While away!',
    });
    expect(Object.keys(states['task:finished'].user).sort()).toEqual(['id', 'name']);
    expect(JSON.parse(resumed.received.find((e) => e.event === 'ready')!.data)).toEqual({ resumed: true });
    await resumed.close();
  });

  it('a Last-Event-ID older than the buffer, or from another process, asks the client to resync', async () => {
    const first = await open('alice');
    const ready = await first.next((e) => e.event === 'ready');
    await first.close();
    // The buffer holds 50 events; each greeting produces at least 5.
    for (let i = 0; i < 12; i++) await server.host.tasks.wait(await run('alice', { name: `n${i}` }));
    const stale = await open('alice', { 'Last-Event-ID': ready.id! });
    const resync = await stale.next((e) => e.event === 'resync');
    expect(resync.id).toMatch(/^[0-9a-f]{8}-\d+$/);
    expect(stale.received.some((e) => e.event.startsWith('task:'))).toBe(false);
    await stale.close();
    const foreign = await open('alice', { 'Last-Event-ID': '00000000-3' });
    await foreign.next((e) => e.event === 'resync');
    await foreign.close();
  });

  it('an idle stream receives heartbeat comments', async () => {
    const stream = await open('bob');
    const heartbeat = await stream.next((e) => e.event === 'comment', 3000);
    expect(heartbeat.data).toBe('');
    await stream.close();
  });

  it('a stream is released when its client disconnects', async () => {
    await eventually(() => (server.router.eventStreams === 0 ? true : undefined));
    const streams = await Promise.all([open('alice'), open('bob')]);
    await Promise.all(streams.map((s) => s.next((e) => e.event === 'ready')));
    expect(server.router.eventStreams).toBe(2);
    await streams[0]!.close();
    await eventually(() => (server.router.eventStreams === 1 ? true : undefined));
    await streams[1]!.close();
    await eventually(() => (server.router.eventStreams === 0 ? true : undefined));
    // Events after everyone left are still buffered for resumption, not written anywhere.
    await server.host.tasks.wait(await run('alice', { name: 'Nobody listens' }));
    expect(server.router.eventStreams).toBe(0);
  });

  it('the stream needs a user and takes no query parameters', async () => {
    const anonymous = await fetch(`${server.url}/events`);
    expect((await problemOf(anonymous)).status).toBe(401);
    const query = await problemOf(await server.request('alice', '/events?since=3'));
    expect(query.errors).toEqual([{ path: '/since', message: expect.any(String) }]);
  });
});

describe('the event stream of a host that coalesces progress', () => {
  let coalescing: TestServer;
  beforeAll(async () => {
    // An interval longer than any task here: only the end of a task sends its last report.
    coalescing = await startServer({ heartbeatMs: 1000 }, { progressIntervalMs: 60_000 });
  });
  afterAll(() => coalescing.close());

  it('carries the last progress of a task that reports and returns at once, before task:finished', async () => {
    const stream = await EventStreamClient.open(`${coalescing.url}/events`, { 'x-user': 'alice' });
    await stream.next((e) => e.event === 'ready');
    const response = await coalescing.request(
      'alice',
      '/plugins/greet/execute',
      postJson({ args: { name: 'Ada', times: 2 } }),
    );
    const id = (await response.json()).tasks[0].id as string;
    await stream.next((e) => e.event === 'task:finished' && JSON.parse(e.data).id === id);
    const mine = stream.received
      .filter((e) => e.event === 'task:progress' || e.event === 'task:finished')
      .map((e) => ({ event: e.event, data: JSON.parse(e.data) }))
      .filter((e) => e.data.id === id);
    // The first change (the status text of greeting 1) at once; everything after it is coalesced and goes out
    // only because the task ended right after its last report.
    expect(
      mine.map((e) =>
        e.event === 'task:progress' ? `${e.data.progress} ${e.data.message} / ${e.data.statusText}` : e.event,
      ),
    ).toEqual(['0 null / Greeted 1 time(s)', '100 greeting 2 / Greeted 2 time(s)', 'task:finished']);
    await stream.close();
  });
});

describe('the event stream gathers the events of a window into one write', () => {
  let batching: TestServer;
  beforeAll(async () => {
    // A window far longer than a greeting takes, so the whole task falls into one window even on a busy machine.
    batching = await startServer({ heartbeatMs: 1000, eventBatchMs: 1500 });
  });
  afterAll(() => batching.close());

  it("sends a task's events, from queued to finished, to each client in one write", async () => {
    const streams = await Promise.all(
      ['alice', 'root'].map((user) => EventStreamClient.open(`${batching.url}/events`, { 'x-user': user })),
    );
    await Promise.all(streams.map((stream) => stream.next((e) => e.event === 'ready')));
    const response = await batching.request(
      'alice',
      '/plugins/greet/execute',
      postJson({ args: { name: 'Ada', times: 3 } }),
    );
    const id = (await response.json()).tasks[0].id as string;
    for (const stream of streams) {
      await stream.next((e) => e.event === 'task:finished' && JSON.parse(e.data).id === id);
      const mine = stream.received.filter((e) => e.event.startsWith('task:') && JSON.parse(e.data).id === id);
      expect(mine[0]!.event).toBe('task:queued');
      expect(mine.filter((e) => e.event === 'task:log')).toHaveLength(3);
      expect(mine.at(-1)!.event).toBe('task:finished');
      expect(new Set(mine.map((e) => e.chunk)).size).toBe(1);
    }
    await Promise.all(streams.map((stream) => stream.close()));
  });
});
