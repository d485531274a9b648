import { createRequire } from 'node:module';
import semver from 'semver';

/** The version of `@plugboard/core` that is running, checked against plugins' `hostVersion` ranges. */
export const PLUGBOARD_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;

/**
 * True when `version` satisfies the semver `range`, with npm's semantics (the `semver` package): `^`, `~`, `x`
 * wildcards, hyphen ranges, spaces for "and", `||` for "or"; a prerelease satisfies a range only when a comparator
 * of the range names a prerelease of the same major, minor and patch.
 */
export function satisfiesRange(version: string, range: string): boolean {
  return semver.valid(version) !== null && isValidRange(range) && semver.satisfies(version, range);
}

/** True when `range` is a valid semver range. */
export function isValidRange(range: string): boolean {
  return semver.validRange(range) !== null;
}
