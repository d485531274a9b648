import semver from 'semver';
// Imported, not read beside the code at run time: a bundler (tsup for dist/, or a host that bundles its server)
// inlines it, whereas a bundled host has no package.json next to its code.
import packageJson from '../package.json' with { type: 'json' };

/** The version of `@plugboard/core` that is running, checked against plugins' `hostVersion` ranges. */
export const PLUGBOARD_VERSION: string = packageJson.version;

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
