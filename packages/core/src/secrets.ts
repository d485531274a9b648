import { mapItemsOnWrite } from './copy-on-write.js';

/** What a secret App Property value is replaced with wherever Plugboard stores, sends or emits text. */
export const SECRET_PLACEHOLDER = '[secret]';

/** Nesting deeper than this is not searched for secrets: the whole value is replaced instead. */
const MAX_DEPTH = 256;

/**
 * True when a schema marks its value secret with the standard JSON Schema annotation `writeOnly: true`,
 * e.g. `Type.String({ writeOnly: true })`.
 */
export function isSecretSchema(schema: unknown): boolean {
  return (
    schema !== null && typeof schema === 'object' && (schema as { writeOnly?: unknown }).writeOnly === true
  );
}

function stringLeaves(value: unknown, out: Set<string>, depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (value.length > 0) out.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) stringLeaves(item, out, depth + 1);
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value))
      stringLeaves((value as Record<string, unknown>)[key], out, depth + 1);
  }
}

/** Whether a key matches a `patternProperties` pattern; a pattern that does not compile matches every key. */
function keyPattern(pattern: string): (key: string) => boolean {
  try {
    const regexp = new RegExp(pattern, 'u');
    return (key) => regexp.test(key);
  } catch {
    return () => true;
  }
}

/**
 * The secret strings in a resolved properties value: every non-empty string found under a schema node marked
 * `writeOnly: true` (the value itself, or the string leaves of an object or array marked so).
 */
export function secretValuesOf(schema: unknown, value: unknown): string[] {
  const found = new Set<string>();
  const walk = (node: unknown, at: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || node === null || typeof node !== 'object' || at === undefined) return;
    if (isSecretSchema(node)) {
      stringLeaves(at, found, depth);
      return;
    }
    const s = node as Record<string, unknown>;
    if (at !== null && typeof at === 'object' && !Array.isArray(at)) {
      const record = at as Record<string, unknown>;
      const properties =
        s.properties !== null && typeof s.properties === 'object'
          ? (s.properties as Record<string, unknown>)
          : {};
      for (const name of Object.keys(properties)) {
        if (Object.hasOwn(record, name)) walk(properties[name], record[name], depth + 1);
      }
      // `Type.Record(...)` describes its values under `patternProperties`.
      const patterns =
        s.patternProperties !== null && typeof s.patternProperties === 'object'
          ? Object.entries(s.patternProperties as Record<string, unknown>)
          : [];
      for (const [pattern, schema] of patterns) {
        const matches = keyPattern(pattern);
        for (const name of Object.keys(record)) {
          if (!Object.hasOwn(properties, name) && matches(name)) walk(schema, record[name], depth + 1);
        }
      }
      if (s.additionalProperties !== null && typeof s.additionalProperties === 'object') {
        for (const name of Object.keys(record)) {
          if (!Object.hasOwn(properties, name)) walk(s.additionalProperties, record[name], depth + 1);
        }
      }
    }
    if (Array.isArray(at) && s.items !== null && typeof s.items === 'object') {
      for (const item of at) walk(s.items, item, depth + 1);
    }
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const branches = s[key];
      if (Array.isArray(branches)) for (const branch of branches) walk(branch, at, depth + 1);
    }
  };
  walk(schema, value, 0);
  return [...found];
}

/**
 * A copy of a JSON Schema without the `default` and `examples` of nodes marked `writeOnly: true`, so that a
 * schema shown to people never carries a secret value.
 */
export function withoutSecretExamples<T>(schema: T): T {
  const strip = (node: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH || node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((item) => strip(item, depth + 1));
    const out: Record<string, unknown> = {};
    const secret = isSecretSchema(node);
    for (const [key, child] of Object.entries(node)) {
      if (secret && (key === 'default' || key === 'examples')) continue;
      out[key] = strip(child, depth + 1);
    }
    return out;
  };
  return strip(schema, 0) as T;
}

/** Replaces a plugin's secret values in text and in JSON values. */
export interface SecretRedactor {
  /** True when there is at least one secret to replace. */
  readonly active: boolean;
  /** The text with every occurrence of a secret replaced by {@link SECRET_PLACEHOLDER}. */
  text(text: string): string;
  /** A copy of a JSON value with secrets replaced in every string and key; the value itself when none is found. */
  value<T>(value: T): T;
}

const NO_SECRETS: SecretRedactor = { active: false, text: (text) => text, value: (value) => value };

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

const redactors = new WeakMap<readonly string[], SecretRedactor>();

/**
 * The redactor of a list of secret values; built once per list. Longer secrets are matched first, so a
 * secret that contains another is replaced whole.
 */
export function secretRedactor(secrets: readonly string[] | undefined): SecretRedactor {
  if (!secrets || secrets.length === 0) return NO_SECRETS;
  const cached = redactors.get(secrets);
  if (cached) return cached;
  const pattern = new RegExp(
    [...new Set(secrets)]
      .filter((secret) => secret.length > 0)
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|'),
    'g',
  );
  const text = (input: string): string => input.replace(pattern, SECRET_PLACEHOLDER);
  const value = <T>(input: T): T => {
    const walk = (node: unknown, depth: number): unknown => {
      if (typeof node === 'string') return text(node);
      if (node === null || typeof node !== 'object') return node;
      if (depth > MAX_DEPTH) return SECRET_PLACEHOLDER;
      if (Array.isArray(node)) return mapItemsOnWrite(node, (item) => walk(item, depth + 1));
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(node)) {
        const child = (node as Record<string, unknown>)[key];
        const safeKey = text(key);
        const safeChild = walk(child, depth + 1);
        if (safeKey !== key || safeChild !== child) changed = true;
        // Defined, not assigned: a `__proto__` key parsed from JSON stays a plain key.
        Object.defineProperty(out, safeKey, {
          value: safeChild,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return changed ? out : node;
    };
    return walk(input, 0) as T;
  };
  const redactor: SecretRedactor = { active: true, text, value };
  redactors.set(secrets, redactor);
  return redactor;
}
