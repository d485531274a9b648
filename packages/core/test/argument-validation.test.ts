/**
 * Property-based tests of argument validation: whatever a user sends, validation answers with the value or with
 * the failing fields, throws nothing but a coded PlugboardError, and never lets prototype keys through.
 */
import {
  ActionPlugin,
  compileObjectValidator,
  createHost,
  type Host,
  isPlugboardError,
  type ObjectValidator,
  type TSchema,
  Type,
} from '@plugboard/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoTask } from './helpers.js';

const RUNS = 300;
const UNSAFE = ['__proto__', 'constructor', 'prototype'];

const SCHEMAS: Record<string, TSchema> = {
  flat: Type.Object({
    text: Type.String({ minLength: 1 }),
    steps: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    copies: Type.Integer({ minimum: 0, maximum: 50, default: 1 }),
  }),
  nested: Type.Object({
    user: Type.Object({ name: Type.String(), tags: Type.Array(Type.String(), { maxItems: 3 }) }),
    mode: Type.Union([Type.Literal('fast'), Type.Literal('safe')], { default: 'safe' }),
    limits: Type.Optional(Type.Object({ max: Type.Number({ minimum: 0 }) })),
  }),
  closed: Type.Object(
    { id: Type.String({ pattern: '^[a-z]+$' }), flags: Type.Array(Type.Boolean()) },
    { additionalProperties: false },
  ),
  open: Type.Object({}, { additionalProperties: true }),
  innerDefaults: Type.Object({
    options: Type.Object(
      { depth: Type.Integer({ default: 2 }), label: Type.Optional(Type.String()) },
      { default: {} },
    ),
  }),
};
const validators = Object.fromEntries(
  Object.entries(SCHEMAS).map(([name, schema]) => [name, compileObjectValidator<unknown>(schema)]),
) as Record<string, ObjectValidator<unknown>>;
const schemaName = fc.constantFrom(...Object.keys(SCHEMAS));

/** JSON values and values no JSON body can carry (Maps, Dates, BigInts, null prototypes, sparse arrays). */
const anyInput = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.anything({
    maxDepth: 4,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
    withBoxedValues: true,
    withObjectString: true,
  }),
  fc.object({ maxDepth: 3 }),
);

/** JSON text of objects whose keys include `__proto__`, `constructor` and `prototype` at any depth. */
const hostileJson: fc.Arbitrary<string> = fc.letrec<{ node: string; object: string; array: string }>(
  (tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
      fc.constant('{"polluted":true,"toString":"owned"}'),
      tie('object'),
      tie('array'),
    ),
    object: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...UNSAFE), fc.string({ maxLength: 6 })), tie('node')), {
        maxLength: 4,
      })
      .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`),
    array: fc.array(tie('node'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
  }),
).object;

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

function expectPrototypeIntact(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(typeof ({} as { toString: unknown }).toString).toBe('function');
}

/** Fails when any object in `value` has an unsafe own key or a prototype other than Object's. */
function expectClean(value: unknown, path = ''): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) expectClean(item, `${path}/${i}`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  expect(Object.getPrototypeOf(value), `prototype at ${path || '/'}`).toBe(Object.prototype);
  for (const key of Object.getOwnPropertyNames(value)) {
    expect(UNSAFE, `key at ${path || '/'}`).not.toContain(key);
    expectClean((value as Record<string, unknown>)[key], `${path}/${key}`);
  }
}

function expectFieldErrors(errors: readonly { path: string; message: string }[]): void {
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(error.path).toMatch(/^\//);
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
  }
}

describe('compileObjectValidator on any input', () => {
  it('returns the value or the failing fields, and throws nothing but a coded error', () => {
    fc.assert(
      fc.property(schemaName, anyInput, (name, input) => {
        let result: ReturnType<ObjectValidator<unknown>['parse']>;
        try {
          result = validators[name]!.parse(input);
        } catch (error) {
          expect(isPlugboardError(error, 'PLUGBOARD_INVALID_ARGUMENTS')).toBe(true);
          return;
        }
        if (!result.ok) expectFieldErrors(result.errors);
        else expect(result.value).not.toBeNull();
      }),
      { numRuns: RUNS },
    );
  });

  it('names the path of the one field that is wrong', () => {
    const valid = fc.record({
      user: fc.record({ name: fc.string(), tags: fc.array(fc.string(), { maxLength: 3 }) }),
      mode: fc.constantFrom('fast', 'safe'),
      limits: fc.record({ max: fc.double({ min: 0, max: 1e6, noNaN: true }) }),
    });
    // Wrong for a string, a number and a literal alike.
    const wrong = fc.oneof(fc.constant(null), fc.boolean(), fc.constant({ odd: true }), fc.constant([1]));
    fc.assert(
      fc.property(valid, fc.nat(), wrong, (generated, which, bad) => {
        // fast-check hands the same objects to later runs while shrinking: corrupt a copy.
        const value = structuredClone(generated);
        const targets: Array<[string, (v: typeof value) => void]> = [
          ['/user/name', (v) => Object.assign(v.user, { name: bad })],
          ['/mode', (v) => Object.assign(v, { mode: bad })],
          ['/limits/max', (v) => Object.assign(v.limits, { max: bad })],
          ['/user/tags/0', (v) => Object.assign(v.user, { tags: [bad, ...v.user.tags.slice(0, 2)] })],
        ];
        const [path, corrupt] = targets[which % targets.length]!;
        corrupt(value);
        const result = validators.nested!.parse(value);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expectFieldErrors(result.errors);
        expect(result.errors.map((e) => e.path)).toEqual([path]);
      }),
      { numRuns: RUNS },
    );
  });

  it('never lets __proto__, constructor or prototype keys at any depth reach the value or Object.prototype', () => {
    fc.assert(
      fc.property(schemaName, hostileJson, (name, text) => {
        const input = JSON.parse(text) as Record<string, unknown>;
        const result = validators[name]!.parse(input);
        expectPrototypeIntact();
        if (result.ok) expectClean(result.value);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('host.execute on any arguments', () => {
  let host: Host;
  const received: unknown[] = [];
  beforeAll(async () => {
    const plugins = Object.entries(SCHEMAS).map(
      ([name, schema]) =>
        class extends ActionPlugin({ id: `probe-${name}`, name, args: schema as never, tasks: [EchoTask] }) {
          createTasks(args: unknown) {
            received.push(args);
            return [];
          }
        },
    );
    host = createHost({ env: false, argv: [], plugins: { classes: plugins } });
    await host.start();
  });
  afterAll(() => host.stop());

  it('resolves, or rejects with a coded error naming failing fields by path', async () => {
    await fc.assert(
      fc.asyncProperty(schemaName, anyInput, async (name, args) => {
        try {
          expect(await host.execute(`probe-${name}`, args)).toEqual({ tasks: [] });
        } catch (error) {
          expect(isPlugboardError(error, 'PLUGBOARD_INVALID_ARGUMENTS')).toBe(true);
          const fields = (error as { details: { fields?: { path: string; message: string }[] } }).details
            .fields;
          // Only nesting past 64 levels is refused without fields.
          if (fields) expectFieldErrors(fields);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('hands createTasks arguments without prototype keys, and leaves Object.prototype alone', async () => {
    await fc.assert(
      fc.asyncProperty(schemaName, hostileJson, async (name, text) => {
        received.length = 0;
        try {
          await host.execute(`probe-${name}`, JSON.parse(text));
        } catch (error) {
          expect(isPlugboardError(error, 'PLUGBOARD_INVALID_ARGUMENTS')).toBe(true);
        }
        expectPrototypeIntact();
        for (const args of received) expectClean(args);
      }),
      { numRuns: RUNS },
    );
  });
});
