import { connect, createServer, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a test's Redis. A worker connected through it can be cut off from Redis in the
 * middle of a task, as when its machine hangs or its network drops, while it keeps running in the test process.
 */
export interface RedisProxy {
  /** ioredis options that reach Redis through the proxy. */
  readonly connection: { readonly host: string; readonly port: number };
  /**
   * Drops the proxy's connections to Redis (so Redis lets go of their blocking reads, as when a machine dies) but
   * keeps the clients' connections open and silent, and holds new ones without answering: the clients behind it
   * hear nothing more from Redis, no error and no close.
   */
  freeze(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a proxy to `target` on a free loopback port. */
export async function startRedisProxy(target: {
  readonly host: string;
  readonly port: number;
}): Promise<RedisProxy> {
  const clients = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    clients.add(client);
    client.on('error', () => {});
    client.on('close', () => clients.delete(client));
    if (frozen) return;
    const upstream = connect(target.port, target.host);
    upstreams.add(upstream);
    upstream.on('error', () => {});
    upstream.on('close', () => {
      upstreams.delete(upstream);
      if (!frozen) client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client, { end: false });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the proxy has no port');
  return {
    connection: { host: '127.0.0.1', port: address.port },
    freeze() {
      frozen = true;
      for (const upstream of upstreams) {
        upstream.unpipe();
        upstream.destroy();
      }
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of [...clients, ...upstreams]) socket.destroy();
      await closed;
    },
  };
}
