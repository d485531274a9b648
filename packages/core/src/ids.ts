import { randomFillSync } from 'node:crypto';

// Random bytes are drawn from the system in blocks: one call per 1024 ids instead of one per id.
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

const ID_LENGTH = 21;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const BASE36 = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz', 'latin1');
/**
 * The id is written here byte by byte and read out as one string: a flat string of 21 bytes, where joining its three
 * parts would make a tree of strings that every retained task would keep (about 70 bytes more a task).
 */
const scratch = Buffer.alloc(ID_LENGTH);

let lastTime = -1;
let sequence = 0;

/**
 * A task id that sorts by creation time: 9 base-36 characters of milliseconds, 4 of a per-process sequence and
 * 8 random hex ones, so listing newest-first is ordering by id.
 */
export function createTaskId(now: number = Date.now()): string {
  if (now === lastTime) sequence++;
  else {
    lastTime = now;
    // Ids made in the same millisecond share their time part: it is written once.
    scratch.write(now.toString(36).padStart(9, '0').slice(-9), 0, 'latin1');
    sequence = 0;
  }
  let seq = sequence;
  for (let i = 12; i >= 9; i--) {
    scratch[i] = BASE36[seq % 36]!;
    seq = Math.floor(seq / 36);
  }
  if (poolOffset + 4 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < 4; i++) {
    const byte = pool[poolOffset + i]!;
    scratch[13 + 2 * i] = HEX[byte >> 4]!;
    scratch[14 + 2 * i] = HEX[byte & 15]!;
  }
  poolOffset += 4;
  return scratch.toString('latin1', 0, ID_LENGTH);
}
