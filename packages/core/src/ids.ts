import { randomBytes } from 'node:crypto';

let lastTime = 0;
let sequence = 0;

/**
 * A task id that sorts by creation time: 9 base-36 characters of milliseconds, 4 of a per-process sequence and
 * 8 random ones, so listing newest-first is ordering by id.
 */
export function createTaskId(now: number = Date.now()): string {
  if (now === lastTime) sequence++;
  else {
    lastTime = now;
    sequence = 0;
  }
  const time = now.toString(36).padStart(9, '0');
  const seq = sequence.toString(36).padStart(4, '0');
  return `${time}${seq}${randomBytes(5).toString('hex').slice(0, 8)}`;
}
