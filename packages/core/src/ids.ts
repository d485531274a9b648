import { randomFillSync } from 'node:crypto';

// Random bytes are drawn from the system in blocks: one call per 1024 ids instead of one per id.
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function randomHex8(): string {
  if (poolOffset + 4 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const value = pool.readUInt32BE(poolOffset);
  poolOffset += 4;
  return value.toString(16).padStart(8, '0');
}

let lastTime = 0;
let lastTimeText = '000000000';
let sequence = 0;

/**
 * A task id that sorts by creation time: 9 base-36 characters of milliseconds, 4 of a per-process sequence and
 * 8 random ones, so listing newest-first is ordering by id.
 */
export function createTaskId(now: number = Date.now()): string {
  if (now === lastTime) sequence++;
  else {
    lastTime = now;
    // Ids made in the same millisecond share their time part: it is written once.
    lastTimeText = now.toString(36).padStart(9, '0');
    sequence = 0;
  }
  const seq = sequence.toString(36).padStart(4, '0');
  return `${lastTimeText}${seq}${randomHex8()}`;
}
