import { describeValue, PlugboardError } from '@plugboard/core';

function invalid(name: string, expected: string, value: unknown): PlugboardError {
  return new PlugboardError(
    'PLUGBOARD_INVALID_OPTION',
    `Expected \`${name}\` to be ${expected}, got ${describeValue(value)}.`,
  );
}

/** Checks an optional integer option against a lower bound and returns it or the fallback. */
export function integerOption(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(name, `an integer >= ${min}`, value);
  }
  return value;
}

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

/** Checks an options bag itself. */
export function optionsObject(what: string, value: unknown): void {
  if (value === null || typeof value !== 'object') {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected ${what} options to be an object, got ${describeValue(value)}.`,
    );
  }
}
