// Imported, not read beside the code at run time: a bundler (tsup for dist/, or a host that bundles its server)
// inlines it, whereas a bundled host has no package.json next to its code.
import packageJson from '../package.json' with { type: 'json' };

/** The version of `@plugboard/core` that is running, checked against plugins' `hostVersion` ranges. */
export const PLUGBOARD_VERSION: string = packageJson.version;

type Version = [number, number, number];

function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:[-+].*)?$/.exec(text.trim());
  if (!match) return undefined;
  const part = (p: string | undefined) => (p === undefined || p === 'x' || p === '*' ? 0 : Number(p));
  return [part(match[1]), part(match[2]), part(match[3])];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function satisfiesComparator(version: Version, comparator: string): boolean {
  if (comparator === '' || comparator === '*' || comparator === 'x') return true;
  const match = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(comparator);
  if (!match) return false;
  const op = match[1] ?? '=';
  const target = parseVersion(match[2]!);
  if (!target) return false;
  const c = compare(version, target);
  switch (op) {
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '~':
      return c >= 0 && version[0] === target[0] && version[1] === target[1];
    case '^': {
      if (c < 0) return false;
      if (target[0] > 0) return version[0] === target[0];
      if (target[1] > 0) return version[0] === 0 && version[1] === target[1];
      return version[0] === 0 && version[1] === 0 && version[2] === target[2];
    }
    default: {
      // "1" and "1.x" pin the major; "1.2" and "1.2.x" pin major and minor; otherwise an exact version.
      const parts = match[2]!.trim().replace(/^v/, '').split(/[-+]/)[0]!.split('.');
      const pinned = parts.filter((p) => p !== 'x' && p !== '*').length;
      if (pinned === 1) return version[0] === target[0];
      if (pinned === 2) return version[0] === target[0] && version[1] === target[1];
      return c === 0;
    }
  }
}

/**
 * True when `version` satisfies the semver `range` (`^`, `~`, comparisons, `x` wildcards, spaces for "and",
 * `||` for "or"). Prerelease tags are ignored.
 */
export function satisfiesRange(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  if (!parsed) return false;
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => satisfiesComparator(parsed, comparator)),
  );
}

/** True when `range` is a range {@link satisfiesRange} understands. */
export function isValidRange(range: string): boolean {
  return range.split('||').every((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .every(
        (c) =>
          c === '' ||
          c === '*' ||
          c === 'x' ||
          /^(\^|~|>=|<=|>|<|=)?v?\d+(\.(\d+|x|\*))?(\.(\d+|x|\*))?(-[\w.]+)?$/.test(c),
      ),
  );
}
