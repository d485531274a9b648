/** The value kinds a flag converts its text to before the host validates it. */
export type FlagValueType = 'string' | 'number' | 'integer' | 'boolean' | 'json';

/** One command-line flag drawn from one property of a plugin's argument schema. */
export interface FlagSpec {
  /** The schema property the flag sets. */
  readonly property: string;
  /** The long flag without dashes, e.g. `dry-run` for `dryRun`. */
  readonly flag: string;
  /** What the text of one value is converted to. */
  readonly type: FlagValueType;
  /** True for array properties: the flag may be repeated. */
  readonly repeatable: boolean;
  /** Allowed values, from `enum`, `const` or a union of literals. */
  readonly choices: readonly (string | number | boolean)[] | null;
  /** True when the schema requires the property and gives it no default. */
  readonly required: boolean;
  /** The schema's default, shown in help; the host applies it. */
  readonly defaultValue: unknown;
  /** The property's `description`, shown in help. */
  readonly description: string | null;
  /** The environment variable read when the flag is not given (the property's `env` keyword). */
  readonly env: string | null;
}

type JsonSchema = Record<string, unknown>;

const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const TRUE_TEXT = new Set(['true', '1', 'yes', 'on']);
const FALSE_TEXT = new Set(['false', '0', 'no', 'off']);

function asSchema(value: unknown): JsonSchema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonSchema)
    : undefined;
}

/** Drops a `null` alternative, so an optional nullable property is flagged like its other type. */
function withoutNull(schema: JsonSchema): JsonSchema {
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = Array.isArray(schema[key]) ? (schema[key] as unknown[]).map(asSchema) : undefined;
    if (!options) continue;
    const rest = options.filter((o) => o && o.type !== 'null');
    if (rest.length === 1 && rest.length < options.length) return { ...schema, ...rest[0], [key]: undefined };
  }
  if (Array.isArray(schema.type)) {
    const types = (schema.type as unknown[]).filter((t) => t !== 'null');
    if (types.length === 1) return { ...schema, type: types[0] };
  }
  return schema;
}

function literalChoices(schema: JsonSchema): (string | number | boolean)[] | null {
  const isLiteral = (v: unknown): v is string | number | boolean =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (Array.isArray(schema.enum) && schema.enum.every(isLiteral)) return [...schema.enum];
  if (isLiteral(schema.const)) return [schema.const];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = Array.isArray(schema[key]) ? (schema[key] as unknown[]).map(asSchema) : undefined;
    if (options?.length && options.every((o) => o && isLiteral(o.const))) {
      return options.map((o) => o!.const as string | number | boolean);
    }
  }
  return null;
}

function valueType(schema: JsonSchema, choices: readonly unknown[] | null): FlagValueType {
  if (choices?.length) {
    if (choices.every((c) => typeof c === 'boolean')) return 'boolean';
    if (choices.every((c) => typeof c === 'number')) return 'number';
    if (choices.every((c) => typeof c === 'string')) return 'string';
    return 'json';
  }
  switch (schema.type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return schema.type;
    default:
      return 'json';
  }
}

/** `dryRun` -> `dry-run`; characters a flag cannot hold become `-`. */
export function flagName(property: string): string {
  return property
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
}

/**
 * One flag per property of an object schema (JSON Schema, as `PluginInfo.schemas.args`). A property whose
 * flag would clash with one in `reserved` (e.g. `json`, `help`) is flagged as `--arg-<name>`.
 */
export function flagsFromSchema(schema: JsonSchema, reserved: ReadonlySet<string>): FlagSpec[] {
  const properties = asSchema(schema.properties) ?? {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const taken = new Set(reserved);
  const specs: FlagSpec[] = [];
  for (const [property, raw] of Object.entries(properties)) {
    const child = withoutNull(asSchema(raw) ?? {});
    const repeatable = child.type === 'array';
    const item = repeatable ? withoutNull(asSchema(child.items) ?? {}) : child;
    const choices = literalChoices(item);
    let flag = flagName(property) || 'arg';
    if (taken.has(flag) || taken.has(`no-${flag}`)) flag = `arg-${flag}`;
    taken.add(flag);
    const description =
      typeof child.description === 'string'
        ? child.description
        : typeof child.title === 'string'
          ? child.title
          : null;
    specs.push({
      property,
      flag,
      type: valueType(item, choices),
      repeatable,
      choices,
      // A property with a default is filled in by the host: the person need not pass it.
      required: required.has(property) && child.default === undefined,
      defaultValue: child.default,
      description,
      env: typeof child.env === 'string' && child.env.length > 0 ? child.env : null,
    });
  }
  return specs;
}

/**
 * Converts the text of one value to the type its flag declares. Text that does not convert is passed on
 * unchanged, so the host's validation reports it with the same message the HTTP API gives.
 */
export function convertFlagText(spec: Pick<FlagSpec, 'type'>, text: string): unknown {
  switch (spec.type) {
    case 'number':
    case 'integer':
      return NUMBER_TEXT.test(text.trim()) ? Number(text) : text;
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (TRUE_TEXT.has(lower)) return true;
      if (FALSE_TEXT.has(lower)) return false;
      return text;
    }
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

/**
 * Converts an environment variable's text: a repeatable flag takes a JSON array or comma-separated values;
 * a boolean takes true/false, 1/0, yes/no or on/off.
 */
export function convertEnvText(spec: FlagSpec, text: string): unknown {
  if (!spec.repeatable) return convertFlagText(spec, text);
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed)) return parsed;
    } catch {
      // not JSON: read as comma-separated below
    }
  }
  if (trimmed === '') return [];
  return trimmed.split(',').map((part) => convertFlagText(spec, part.trim()));
}

/** The help text of a flag: its description, then required, choices, default and env fallback. */
export function flagHelp(spec: FlagSpec): string {
  const extra: string[] = [];
  if (spec.required) extra.push('required');
  if (spec.choices) extra.push(`choices: ${spec.choices.map((c) => JSON.stringify(c)).join(', ')}`);
  if (spec.defaultValue !== undefined) extra.push(`default: ${JSON.stringify(spec.defaultValue)}`);
  if (spec.repeatable) extra.push('repeatable');
  if (spec.env) extra.push(`env: ${spec.env}`);
  const text = spec.description ?? '';
  if (extra.length === 0) return text;
  return text ? `${text} (${extra.join(', ')})` : `(${extra.join(', ')})`;
}

/** The value placeholder shown after a flag in help, e.g. `<fast|slow>` or `<integer>`. */
export function flagPlaceholder(spec: FlagSpec): string {
  if (spec.choices && spec.choices.length <= 6) return `<${spec.choices.join('|')}>`;
  return spec.type === 'string' ? '<value>' : `<${spec.type}>`;
}
