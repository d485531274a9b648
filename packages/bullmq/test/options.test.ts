import { bullmqRuntime, createWorker } from '@plugboard/bullmq';
import { describe, expect, it } from 'vitest';

const connection = { host: '127.0.0.1', port: 1 };

describe('options are checked when the runtime and the worker are built', () => {
  it('refuses a worker concurrency below 1 with a message naming the option and the value', () => {
    expect(() => createWorker({ connection, concurrency: 0 })).toThrow(
      'Expected `concurrency` to be an integer >= 1, got `0` (number).',
    );
    expect(() => createWorker({ connection, concurrency: 1.5 })).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_OPTION' }),
    );
  });

  it('refuses a queue name BullMQ cannot key', () => {
    expect(() => bullmqRuntime({ connection, queue: 'a:b' })).toThrow(
      'Expected `queue` to be a name of letters, digits, `_`, `.` or `-` (1 to 100 characters), got `"a:b"` (string).',
    );
  });

  it('refuses a missing connection', () => {
    expect(() => bullmqRuntime({} as never)).toThrow(/Expected `connection` to be ioredis options/);
  });

  it('refuses lock and stall timings that are not integers', () => {
    expect(() => createWorker({ connection, lockDurationMs: -1 })).toThrow(
      'Expected `lockDurationMs` to be an integer >= 100, got `-1` (number).',
    );
    expect(() => bullmqRuntime({ connection, statsIntervalMs: Number.NaN })).toThrow(
      'Expected `statsIntervalMs` to be an integer >= 10, got `null` (number).',
    );
  });

  it('names each worker timing and the worker itself when refusing them', () => {
    expect(() => createWorker(null as never)).toThrow('Expected createWorker options to be an object, got');
    expect(() => createWorker({ connection, stalledIntervalMs: 50 })).toThrow(
      'Expected `stalledIntervalMs` to be an integer >= 100, got `50` (number).',
    );
    expect(() => createWorker({ connection, shutdownTimeoutMs: -1 })).toThrow(
      'Expected `shutdownTimeoutMs` to be an integer >= 0, got `-1` (number).',
    );
    expect(() => createWorker({ connection, connectTimeoutMs: 0 })).toThrow(
      'Expected `connectTimeoutMs` to be an integer >= 1, got `0` (number).',
    );
  });

  it('builds without connecting, so nothing runs until start', () => {
    expect(bullmqRuntime({ connection }).name).toBe('bullmq');
    expect(createWorker({ connection }).state).toBe('created');
  });
});
