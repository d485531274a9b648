import { compileObjectValidator, type TSchema, Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';

// Every validator here is compiled inside its test: what a schema compiles to is part of what each test checks.

/** The value of a valid parse, or a failed test. */
function parsed(schema: TSchema, input: unknown): Record<string, unknown> {
  const result = compileObjectValidator<Record<string, unknown>>(schema).parse(input);
  if (!result.ok) throw new Error(`expected valid input, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

/** The failing fields of a parse, or a failed test. */
function errorsOf(schema: TSchema, input: unknown) {
  const result = compileObjectValidator(schema).parse(input);
  if (result.ok) throw new Error(`expected invalid input, got ${JSON.stringify(result.value)}`);
  return result.errors;
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('compileObjectValidator: values handed in from code', () => {
  // Arguments of every shape a plugin commonly declares, none with a default inside: the values below must reach
  // the plugin as they were given.
  const Args = Type.Object({
    when: Type.Any(),
    where: Type.Optional(Type.Any()),
    list: Type.Optional(Type.Array(Type.String())),
    nested: Type.Optional(Type.Object({ deep: Type.Object({ n: Type.Optional(Type.Number()) }) })),
    choice: Type.Optional(Type.Union([Type.Literal('a'), Type.Object({ k: Type.String() })])),
    both: Type.Optional(
      Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]),
    ),
    tuple: Type.Optional(Type.Tuple([Type.String(), Type.Number()])),
    none: Type.Optional(Type.Unsafe<null>({ const: null })),
    level: Type.Optional(Type.Unsafe<'low' | null>({ enum: ['low', null] })),
    count: Type.Integer({ default: 1 }),
  });

  it('keeps dates, maps and class instances that carry no unsafe key, and objects without one uncopied', () => {
    const when = new Date('2026-11-30T00:00:00Z');
    const where = new Point(1, 2);
    const tags = new Map([['a', 1]]);
    const nested = { deep: { n: 1 } };
    const value = parsed(Args, {
      when,
      where,
      list: ['x'],
      nested,
      choice: { k: 'v' },
      both: { a: 'a', b: 'b' },
      tuple: ['t', 1],
    });
    expect(value.when).toBe(when);
    expect(value.where).toBe(where);
    expect(value.nested).toBe(nested);
    expect(value.count).toBe(1);
    expect(parsed(Args, { when: tags }).when).toBe(tags);
  });

  it('keeps null values, at the top and deeper down', () => {
    const input = { when: null, none: null, level: null, nested: { deep: { n: 1, extra: null } } };
    expect(parsed(Args, input)).toEqual({ ...input, count: 1 });
    const withInnerDefault = Type.Object({
      when: Type.Any(),
      options: Type.Object({ depth: Type.Integer({ default: 2 }) }, { default: {} }),
    });
    expect(parsed(withInnerDefault, { when: { a: null, b: 'text', c: 1 } })).toEqual({
      when: { a: null, b: 'text', c: 1 },
      options: { depth: 2 },
    });
  });

  it('refuses a list or a string at the top like any value that is not an object', () => {
    for (const input of [['a'], 'text', 7]) {
      expect(compileObjectValidator(Type.Object({ a: Type.Optional(Type.String()) })).parse(input)).toEqual({
        ok: false,
        errors: [{ path: '/', message: 'must be object' }],
      });
    }
  });

  it('treats an object with a null prototype, as query-string parsers make, like a plain one', () => {
    const when = new Date('2026-11-30T00:00:00Z');
    const input = Object.assign(Object.create(null) as Record<string, unknown>, { when, list: ['x'] });
    const value = parsed(Args, input);
    expect(value).toEqual({ when, list: ['x'], count: 1 });
    expect(value.when).toBe(when);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(input)).toEqual(['when', 'list']);
  });

  it('reads a class instance at the top as the object of its own keys', () => {
    const value = parsed(Type.Object({ x: Type.Number(), y: Type.Number() }), new Point(3, 4));
    expect(value).toEqual({ x: 3, y: 4 });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('keeps every other key of an object that loses an unsafe one deeper down', () => {
    const input = JSON.parse('{"a":{"first":1,"b":{"constructor":1,"keep":2},"last":3}}');
    const value = parsed(Type.Object({ a: Type.Any() }), input);
    expect(value).toEqual({ a: { first: 1, b: { keep: 2 }, last: 3 } });
    expect(Object.keys(value.a as object)).toEqual(['first', 'b', 'last']);
    expect(input.a.b).toEqual({ constructor: 1, keep: 2 });
  });

  it('drops an unsafe key from a class instance, keeping its other keys in a plain copy', () => {
    const point = Object.assign(new Point(1, 2), { constructor: 'x' });
    const value = parsed(Type.Object({ p: Type.Any() }), { p: point });
    expect(value.p).toEqual({ x: 1, y: 2 });
    expect(Object.getPrototypeOf(value.p)).toBe(Object.prototype);
    expect(Object.keys(point)).toEqual(['x', 'y', 'constructor']);
  });
});

describe('compileObjectValidator: defaults', () => {
  it('fills a default object or list with its contents, a fresh copy each time', () => {
    const schema = Type.Object({
      limits: Type.Object({ max: Type.Integer(), unit: Type.String() }, { default: { max: 3, unit: 's' } }),
      pair: Type.Array(Type.Integer(), { default: [1, 2] }),
    });
    const first = parsed(schema, {});
    expect(first).toEqual({ limits: { max: 3, unit: 's' }, pair: [1, 2] });
    (first.limits as { max: number }).max = 9;
    (first.pair as number[]).push(3);
    expect(parsed(schema, {})).toEqual({ limits: { max: 3, unit: 's' }, pair: [1, 2] });
  });

  it('fills defaults declared inside every part of an intersection and inside the items of a list', () => {
    const allOf = Type.Object({
      u: Type.Intersect([
        Type.Object({ x: Type.Integer({ default: 1 }) }),
        Type.Object({ y: Type.Integer({ default: 2 }) }),
      ]),
    });
    expect(parsed(allOf, { u: {} })).toEqual({ u: { x: 1, y: 2 } });
    const items = Type.Object({ rows: Type.Array(Type.Object({ on: Type.Boolean({ default: true }) })) });
    expect(parsed(items, { rows: [{}, { on: false }] })).toEqual({ rows: [{ on: true }, { on: false }] });
  });

  it('fills a missing argument with the default of the alternative that declares one', () => {
    const schema = Type.Object({ u: Type.Union([Type.String({ default: 'x' }), Type.Number()]) });
    expect(parsed(schema, {})).toEqual({ u: 'x' });
    expect(parsed(schema, { u: 2 })).toEqual({ u: 2 });
  });

  it('fills a list item or a map value left undefined from code with the default its schema declares', () => {
    const list = Type.Object({ l: Type.Array(Type.String({ default: 'x' })) });
    expect(parsed(list, { l: ['a', undefined] })).toEqual({ l: ['a', 'x'] });
    const map = Type.Object({ m: Type.Record(Type.String(), Type.Integer({ default: 1 })) });
    expect(parsed(map, { m: { a: undefined, b: 2 } })).toEqual({ m: { a: 1, b: 2 } });
  });
});

describe('compileObjectValidator: failing fields', () => {
  it('gives the same schema object the same validator, and another schema its own', () => {
    const schema = Type.Object({ a: Type.String() });
    const validator = compileObjectValidator(schema);
    expect(compileObjectValidator(schema)).toBe(validator);
    expect(validator.schema).toBe(schema);
    expect(compileObjectValidator(Type.Object({ a: Type.String() }))).not.toBe(validator);
  });

  it('says a value must be one of the allowed values for a oneOf as for a union', () => {
    const schema = Type.Object({
      u: Type.Unsafe<string | number>({ oneOf: [{ type: 'string' }, { type: 'number' }] }),
    });
    expect(errorsOf(schema, { u: true })).toEqual([
      { path: '/u', message: 'must be one of the allowed values' },
    ]);
    expect(errorsOf(Type.Object(schema.properties, { minProperties: 1 }), { u: true })).toEqual([
      { path: '/u', message: 'must be one of the allowed values' },
    ]);
  });

  it('names the first rule a field breaks, once', () => {
    for (const options of [{}, { minProperties: 1 }]) {
      const schema = Type.Object(
        {
          s: Type.String({ minLength: 3, pattern: '^a' }),
          n: Type.Integer({ minimum: 5, multipleOf: 2 }),
        },
        options,
      );
      expect(errorsOf(schema, { s: 'b', n: 3 })).toEqual([
        { path: '/s', message: 'must not have fewer than 3 characters' },
        { path: '/n', message: 'must be >= 5' },
      ]);
    }
  });

  it('names a field of a schema that is not an object at the root', () => {
    expect(errorsOf(Type.Null(), { a: 1 })).toEqual([{ path: '/', message: 'must be null' }]);
    expect(errorsOf(Type.String(), {})).toEqual([{ path: '/', message: 'must be string' }]);
  });

  it('names every refused key once, inside nested objects too', () => {
    const inner = Type.Object({ x: Type.String() }, { additionalProperties: false });
    for (const options of [
      { additionalProperties: false },
      { additionalProperties: false, minProperties: 1 },
    ]) {
      const schema = Type.Object({ o: inner }, options);
      expect(errorsOf(schema, { o: { x: 'ok', y: 1, z: 2 }, extra: true })).toEqual([
        { path: '/extra', message: 'is not an accepted argument' },
        { path: '/o/y', message: 'is not an accepted argument' },
        { path: '/o/z', message: 'is not an accepted argument' },
      ]);
    }
  });
});
