import { describeValue, PlugboardError } from './errors.js';

/**
 * The error for an option that is not what it should be: "Expected `name` to be <expected>, got `0` (number)."
 * Every package checks its options when the object is built, with this one wording.
 */
export function invalidOption(name: string, expected: string, value: unknown): PlugboardError {
  return new PlugboardError(
    'PLUGBOARD_INVALID_OPTION',
    `Expected \`${name}\` to be ${expected}, got ${describeValue(value)}.`,
  );
}

/** Checks an options bag itself: `what` names it ("host", "router"), `expected` says what it must hold. */
export function checkOptionsObject(what: string, value: unknown, expected = 'an object'): void {
  if (value === null || typeof value !== 'object') {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected ${what} options to be ${expected}, got ${describeValue(value)}.`,
    );
  }
}

/** Bounds of {@link numberOption} and {@link integerOption}. */
export interface NumberBounds {
  /** The smallest value allowed. */
  readonly min: number;
  /** The largest value allowed. @default Infinity */
  readonly max?: number;
  /** Whether `null` is allowed (it then means "none"). @default false */
  readonly allowNull?: boolean;
}

/**
 * Checks an optional number option against its bounds; returns it, or `fallback` when it is `undefined`.
 * NaN is refused; the message names the bound that was broken.
 */
export function numberOption<T extends number | null | undefined>(
  name: string,
  value: unknown,
  bounds: NumberBounds,
  fallback?: T,
): number | T {
  if (value === undefined) return fallback as T;
  const { min, max = Infinity, allowNull = false } = bounds;
  if (allowNull && value === null) return null as T;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const range = typeof value === 'number' && value > max ? `<= ${max}` : `>= ${min}`;
    throw invalidOption(name, `a number ${range}${allowNull ? ' or null' : ''}`, value);
  }
  return value;
}

/** Checks an optional integer option with a lower bound; returns it, or `fallback` when it is `undefined`. */
export function integerOption(
  name: string,
  value: unknown,
  min: number,
  fallback: number,
  expected = `an integer >= ${min}`,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidOption(name, expected, value);
  }
  return value;
}

/** Checks an optional function option; returns it, or `fallback` when it is `undefined`. */
export function functionOption<F>(name: string, value: unknown, fallback: F, expected = 'a function'): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw invalidOption(name, expected, value);
  return value as F;
}

/** Checks an optional boolean option; returns it, or `fallback` when it is `undefined`. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value);
  return value;
}

/** Checks an optional option that takes one of a few values; returns it, or `fallback` when it is `undefined`. */
export function oneOfOption<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  expected = `one of ${allowed.join(', ')}`,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw invalidOption(name, expected, value);
  return value as T;
}
