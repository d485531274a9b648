import type { TObject, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { mapItemsOnWrite } from './copy-on-write.js';
import { type FieldError, PlugboardError, type PlugboardErrorCode } from './errors.js';

/** An object schema with no properties: what a plugin without arguments or properties uses. */
export type EmptyObjectSchema = TObject<{}>;

/** A compiled validator for one object schema: applies defaults, strips unsafe keys, reports every failing field. */
export interface ObjectValidator<T> {
  /** The JSON Schema the validator was built from. */
  readonly schema: TSchema;
  /** Returns the value with defaults applied, or the list of failing fields. */
  parse(value: unknown):
    | {
        /** The value is valid. */
        ok: true;
        /** The value, sanitised and with defaults applied. */
        value: T;
      }
    | {
        /** The value is invalid. */
        ok: false;
        /** One entry per failing field. */
        errors: FieldError[];
      };
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Deep-copies JSON-like input into plain objects, dropping `__proto__`, `constructor` and `prototype` keys
 * so that prototype-pollution attempts never reach plugin code.
 */
export function sanitizeInput(value: unknown, depth = 0): unknown {
  if (depth > 64)
    throw new PlugboardError('PLUGBOARD_INVALID_ARGUMENTS', 'Input is nested more than 64 levels deep.');
  if (Array.isArray(value)) return value.map((item) => sanitizeInput(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (UNSAFE_KEYS.has(key)) continue;
      out[key] = sanitizeInput((value as Record<string, unknown>)[key], depth + 1);
    }
    return out;
  }
  return value;
}

const KNOWN_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/**
 * Checks that `schema` is an object schema Plugboard can draw forms, flags and validators from.
 * Returns the problems found, empty when the schema is usable.
 */
export function checkObjectSchema(schema: unknown): string[] {
  const problems: string[] = [];
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return [
      `expected a TypeBox object schema (Type.Object({...})), got ${schema === null ? 'null' : typeof schema}`,
    ];
  }
  const root = schema as Record<string, unknown>;
  if (root.type !== 'object')
    problems.push(`expected \`type: "object"\` at the top, got ${JSON.stringify(root.type)}`);
  const properties = root.properties;
  if (properties !== undefined && (properties === null || typeof properties !== 'object')) {
    problems.push('`properties` must be an object of schemas');
  }
  const ancestors = new Set<unknown>();
  const walk = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      problems.push(`${path}: a schema must be an object`);
      return;
    }
    if (ancestors.has(node)) {
      problems.push(`${path}: a schema must not contain itself`);
      return;
    }
    if (ancestors.size >= 64) {
      problems.push(`${path}: schemas nested more than 64 levels deep are not supported`);
      return;
    }
    ancestors.add(node);
    walkNode(node as Record<string, unknown>, path);
    ancestors.delete(node);
  };
  const walkNode = (s: Record<string, unknown>, path: string): void => {
    const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
    for (const t of types)
      if (!KNOWN_TYPES.has(t as string)) problems.push(`${path}: unknown type ${JSON.stringify(t)}`);
    for (const key of ['minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems'] as const) {
      if (s[key] !== undefined && typeof s[key] !== 'number')
        problems.push(`${path}/${key} must be a number`);
    }
    if (
      s.required !== undefined &&
      !(Array.isArray(s.required) && s.required.every((r) => typeof r === 'string'))
    ) {
      problems.push(`${path}/required must be an array of names`);
    }
    if (s.properties !== undefined && (s.properties === null || typeof s.properties !== 'object')) {
      problems.push(`${path}/properties must be an object of schemas`);
    } else if (s.properties !== undefined) {
      for (const [name, child] of Object.entries(s.properties)) walk(child, `${path}/${name}`);
    }
    if (s.items !== undefined) walk(s.items, `${path}/items`);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const list = s[key];
      if (!Array.isArray(list)) continue;
      for (const [i, child] of list.entries()) walk(child, `${path}/${key}/${i}`);
    }
  };
  if (problems.length === 0) walk(schema, '');
  return problems;
}

/** Turns TypeBox's error list into one entry per failing field, most specific reason first. */
function toFieldErrors(errors: Iterable<SchemaError>) {
  const byPath = new Map<string, FieldError>();
  for (const error of errors) {
    const path = error.instancePath || '/';
    let message = error.message;
    if (error.keyword === 'boolean' && error.message === 'schema is false') {
      // A key that `additionalProperties: false` (or a `false` schema) refuses.
      if (!byPath.has(path)) byPath.set(path, { path, message: 'is not an accepted argument' });
      continue;
    }
    if (error.keyword === 'required') {
      for (const name of (error.params as { requiredProperties: string[] }).requiredProperties) {
        const p = `${error.instancePath}/${name}`;
        if (!byPath.has(p)) byPath.set(p, { path: p, message: 'is required' });
      }
      continue;
    }
    // TypeBox names each refused key with a `false` schema error (above) before this summary of them all.
    if (error.keyword === 'additionalProperties') continue;
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
      message = 'must be one of the allowed values';
      byPath.set(path, { path, message });
      continue;
    }
    if (!byPath.has(path)) byPath.set(path, { path, message });
  }
  return [...byPath.values()];
}

/**
 * Copies only what must change: a value without unsafe keys is returned as is, so clean input (nearly all of it)
 * costs a walk and no allocation; an object that loses a key becomes a plain copy. Throws past 64 levels of
 * nesting, like {@link sanitizeInput}.
 */
function withoutUnsafeKeys(value: unknown, depth: number): unknown {
  if (depth > 64)
    throw new PlugboardError('PLUGBOARD_INVALID_ARGUMENTS', 'Input is nested more than 64 levels deep.');
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return mapItemsOnWrite(value, (item) => withoutUnsafeKeys(item, depth + 1));
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    if (UNSAFE_KEYS.has(key)) {
      copy ??= { ...record };
      delete copy[key];
      continue;
    }
    const child = withoutUnsafeKeys(record[key], depth + 1);
    if (child !== record[key]) {
      copy ??= { ...record };
      copy[key] = child;
    }
  }
  return copy ?? value;
}

/** Whether a value (never null or undefined) was made by `{}` or has a null prototype: not a list, class or primitive. */
function isPlainObject(value: NonNullable<unknown>): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether a schema declares a default anywhere inside it (its own `default` not counted). */
function hasInnerDefaults(node: object): boolean {
  for (const [key, child] of Object.entries(node)) {
    if (key === 'default') continue;
    if (child !== null && typeof child === 'object') {
      if (!Array.isArray(child) && 'default' in child && (key === 'items' || key === 'not')) return true;
      if (key === 'properties' || key === 'patternProperties' || key === '$defs' || key === 'definitions') {
        for (const sub of Object.values(child)) {
          if (sub !== null && typeof sub === 'object' && ('default' in sub || hasInnerDefaults(sub)))
            return true;
        }
        continue;
      }
      if (Array.isArray(child)) {
        for (const sub of child) {
          if (sub !== null && typeof sub === 'object' && ('default' in sub || hasInnerDefaults(sub)))
            return true;
        }
        continue;
      }
      if (hasInnerDefaults(child)) return true;
    }
  }
  return false;
}

/** A fresh copy of a default for each call, so a plugin that mutates its arguments never changes the schema. */
function defaultFactory(value: unknown): () => unknown {
  if (value === null || typeof value !== 'object') return () => value;
  if (Array.isArray(value) && value.length === 0) return () => [];
  if (!Array.isArray(value) && Object.keys(value).length === 0) return () => ({});
  return () => structuredClone(value);
}

type SchemaError = { instancePath: string; message: string; keyword: string; params: unknown };

/** Keywords of an object schema that the per-property error search below fully accounts for. */
const PLAIN_OBJECT_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'title',
  'description',
  '$id',
  '$schema',
  'examples',
  'default',
]);

/**
 * How a failing value's errors are found. For a plain object schema (the usual shape of arguments) only the
 * properties that fail are walked, each with its own compiled validator, which is several times faster than
 * walking the whole value; anything else asks TypeBox for the whole list.
 */
function fieldErrorsFinder(
  schema: TSchema,
  validator: { Errors(value: unknown): Iterable<SchemaError> },
): (value: unknown) => Iterable<SchemaError> {
  const whole = (value: unknown) => validator.Errors(value);
  const root = schema as Record<string, unknown>;
  const plain =
    root.type === 'object' &&
    Object.keys(root).every((key) => PLAIN_OBJECT_KEYWORDS.has(key)) &&
    (root.additionalProperties === undefined || typeof root.additionalProperties === 'boolean');
  if (!plain) return whole;
  // Each property's validator is compiled when a value first fails: a host starting hundreds of plugins does not
  // pay for validators that only error messages need.
  const properties = Object.entries((root.properties ?? {}) as Record<string, TSchema>).map(
    ([name, schema]) => {
      let compiled: ReturnType<typeof Compile> | undefined;
      return {
        name,
        path: `/${name}`,
        get validator() {
          compiled ??= Compile(schema);
          return compiled;
        },
      };
    },
  );
  const known = new Set(properties.map((p) => p.name));
  const required = (root.required ?? []) as readonly string[];
  const closed = root.additionalProperties === false;
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return whole(value);
    const record = value as Record<string, unknown>;
    const errors: SchemaError[] = [];
    if (closed) {
      const extra = Object.keys(record).filter((key) => !known.has(key));
      for (const key of extra) {
        errors.push({ instancePath: `/${key}`, message: 'schema is false', keyword: 'boolean', params: {} });
      }
    }
    const missing = required.filter((name) => record[name] === undefined);
    if (missing.length > 0) {
      errors.push({
        instancePath: '',
        message: 'must have required properties',
        keyword: 'required',
        params: { requiredProperties: missing },
      });
    }
    for (const property of properties) {
      const item = record[property.name];
      if (item === undefined || property.validator.Check(item)) continue;
      for (const error of property.validator.Errors(item)) {
        errors.push({ ...error, instancePath: `${property.path}${error.instancePath}` });
      }
    }
    return errors;
  };
}

/** Validators already compiled, by schema: a schema shared by many plugins (or seen again on reload) compiles once. */
const compiled = new WeakMap<object, ObjectValidator<unknown>>();

/** Compiles `schema` once into an {@link ObjectValidator}; the same schema object gets the same validator. */
export function compileObjectValidator<T>(schema: TSchema): ObjectValidator<T> {
  let validator = compiled.get(schema) as ObjectValidator<T> | undefined;
  if (!validator) {
    validator = buildObjectValidator<T>(schema);
    compiled.set(schema, validator as ObjectValidator<unknown>);
  }
  return validator;
}

function buildObjectValidator<T>(schema: TSchema): ObjectValidator<T> {
  const validator = Compile(schema);
  const properties = (schema as { properties?: Record<string, { default?: unknown }> }).properties ?? {};
  const topDefaults = Object.entries(properties)
    .filter(([, property]) => 'default' in property)
    .map(([name, property]) => [name, defaultFactory(property.default)] as const);
  // Defaults only on top-level properties (the usual shape of arguments) are filled in directly; schemas
  // with defaults deeper inside go through TypeBox's general default pass.
  const fastDefaults = !Object.values(properties).some((property) => hasInnerDefaults(property));
  const errorsOf = fieldErrorsFinder(schema, validator);
  const check = (candidate: unknown): ReturnType<ObjectValidator<T>['parse']> =>
    validator.Check(candidate)
      ? { ok: true, value: candidate as T }
      : { ok: false, errors: toFieldErrors(errorsOf(candidate)) };
  return {
    schema,
    parse(value) {
      const raw = value ?? {};
      if (fastDefaults && isPlainObject(raw)) {
        // A fresh top-level object, so defaults never write into the caller's value; nested values are copied
        // only where an unsafe key has to go.
        const input: Record<string, unknown> = {};
        for (const key of Object.keys(raw)) {
          if (!UNSAFE_KEYS.has(key)) input[key] = withoutUnsafeKeys(raw[key], 1);
        }
        for (const [name, fresh] of topDefaults) {
          if (input[name] === undefined) input[name] = fresh();
        }
        return check(input);
      }
      return check(Value.Default(schema, sanitizeInput(raw)));
    },
  };
}

/** Converts string values (from environment variables or flags) to the types the schema declares. */
export function coerceFromStrings(schema: TSchema, value: Record<string, unknown>): unknown {
  return Value.Convert(schema, value);
}

/** Formats failing fields as one sentence, e.g. "`/times` must be >= 1; `/name` is required". */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `\`${e.path}\` ${e.message}`).join('; ');
}

/** Builds the coded error for failing fields. */
export function fieldError(
  code: PlugboardErrorCode,
  what: string,
  errors: readonly FieldError[],
): PlugboardError {
  return new PlugboardError(code, `${what}: ${formatFieldErrors(errors)}.`, { details: { fields: errors } });
}

/**
 * The error a plugin throws from `createTasks` when arguments pass the schema but not a rule across fields
 * (for example an end date before the start date). The host passes it on as is: a 400 over HTTP and a usage
 * error on the command line, naming the fields.
 *
 * @example
 * if (args.until < args.since) throw invalidArguments([{ path: '/until', message: 'must not be before `since`' }]);
 */
export function invalidArguments(errors: readonly FieldError[]): PlugboardError {
  return fieldError('PLUGBOARD_INVALID_ARGUMENTS', 'Invalid arguments', errors);
}

/** Returns a plain JSON copy of a schema, fit to send to a browser or write as OpenAPI. */
export function toJsonSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
