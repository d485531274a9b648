import { ScaffoldError } from './scaffold-error.js';

/**
 * Plugin ids as `@plugboard/core` accepts them: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter
 * or digit. A test checks this against what a real host accepts.
 */
export const PLUGIN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** npm package names: lower case, URL-safe, an optional scope, at most 214 characters. */
const PACKAGE_NAME_PATTERN = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const PACKAGE_NAME_MAX = 214;

/** The prefix plugin packages often carry, dropped when the id is derived from the package name. */
const PLUGIN_PACKAGE_PREFIX = 'plugboard-plugin-';

/** Throws a usage error unless `name` is a valid npm package name; `subject` names it in the message. */
export function checkPackageName(name: string, subject: string): void {
  if (name.length <= PACKAGE_NAME_MAX && PACKAGE_NAME_PATTERN.test(name)) return;
  throw new ScaffoldError(
    `${subject} is not a valid npm package name: use lower-case letters, digits, ".", "_", "~" or "-" ` +
      `(an optional @scope/ first), starting with a letter or digit, at most ${PACKAGE_NAME_MAX} characters. ` +
      'Pass --name <package> to choose one.',
    2,
  );
}

/** Throws a usage error unless `id` is a plugin id a host accepts; `subject` names it in the message. */
export function checkPluginId(id: string, subject: string): void {
  if (PLUGIN_ID_PATTERN.test(id)) return;
  throw new ScaffoldError(
    `${subject} is not a valid plugin id: use 1 to 64 letters, digits, ".", "_" or "-", starting with a ` +
      'letter or digit. Pass --id <plugin-id> to choose one.',
    2,
  );
}

/** The id a package name suggests: without its scope and a `plugboard-plugin-` prefix. */
export function idFromPackageName(name: string): string {
  const bare = name.replace(/^@[^/]+\//, '');
  return bare.startsWith(PLUGIN_PACKAGE_PREFIX) && bare.length > PLUGIN_PACKAGE_PREFIX.length
    ? bare.slice(PLUGIN_PACKAGE_PREFIX.length)
    : bare;
}

function words(id: string): string[] {
  return id.split(/[._-]+/).filter(Boolean);
}

/** The plugin class name an id suggests: `word-count` gives `WordCountPlugin`. */
export function classNameFromId(id: string): string {
  const pascal = words(id)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
  // A class name cannot start with a digit: `3d-render` gives `Plugin3dRender`.
  return /^\d/.test(pascal) ? `Plugin${pascal}` : `${pascal}Plugin`;
}

/** The name people see that an id suggests: `word-count` gives `Word count`. */
export function displayNameFromId(id: string): string {
  const text = words(id).join(' ');
  return text[0]!.toUpperCase() + text.slice(1);
}
