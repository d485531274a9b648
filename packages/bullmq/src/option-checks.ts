import { invalidOption as invalid } from '@plugboard/core/spi';

/** Checks a BullMQ queue name: BullMQ keys are `<prefix>:<queue>:...`, so a colon would break them. */
export function queueNameOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[\w.-]{1,100}$/.test(value)) {
    throw invalid(name, 'a name of letters, digits, `_`, `.` or `-` (1 to 100 characters)', value);
  }
  return value;
}

/** Checks the Redis connection option: ioredis options or an ioredis client. */
export function connectionOption(value: unknown): void {
  if (value === null || typeof value !== 'object') {
    throw invalid('connection', 'ioredis options (e.g. `{ host, port }`) or an ioredis client', value);
  }
}
