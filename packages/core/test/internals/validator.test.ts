import { compileObjectValidator, type TSchema, Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';

describe('compileObjectValidator', () => {
  const Args = Type.Object({
    name: Type.String({ minLength: 1 }),
    tags: Type.Array(Type.String(), { default: [] }),
    limits: Type.Object({ max: Type.Integer() }, { default: { max: 3 } }),
    mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
  });
  const validator = compileObjectValidator<{ name: string; tags: string[]; limits: { max: number } }>(Args);

  it('fills top-level defaults with a fresh copy on every call and never writes into the input', () => {
    const input = { name: 'x' };
    const first = validator.parse(input);
    const second = validator.parse(input);
    expect(input).toEqual({ name: 'x' });
    if (!first.ok || !second.ok) throw new Error('expected valid input');
    expect(first.value).toEqual({ name: 'x', tags: [], limits: { max: 3 }, mode: 'a' });
    first.value.tags.push('changed');
    first.value.limits.max = 99;
    expect(second.value.tags).toEqual([]);
    expect(second.value.limits.max).toBe(3);
    expect(validator.parse({ name: 'y' })).toMatchObject({ ok: true, value: { limits: { max: 3 } } });
  });

  it('drops prototype-pollution keys at any depth', () => {
    const body = JSON.parse(
      '{"name":"x","__proto__":{"polluted":1},"limits":{"max":1,"constructor":{"p":1}}}',
    );
    const result = validator.parse(body);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.keys(result.value)).not.toContain('__proto__');
    expect(Object.keys(result.value.limits)).toEqual(['max']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('applies defaults nested inside properties through the general path', () => {
    const Nested = Type.Object({
      options: Type.Object({ depth: Type.Integer({ default: 2 }) }, { default: {} }),
    });
    const result = compileObjectValidator(Nested).parse({});
    expect(result).toEqual({ ok: true, value: { options: { depth: 2 } } });
  });

  it('reports every failing field', () => {
    const result = validator.parse({ name: '', mode: 'c' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path).sort()).toEqual(['/mode', '/name']);
  });

  it('names keys a closed schema does not accept, and finds errors deep inside arrays', () => {
    const Closed = Type.Object(
      { items: Type.Array(Type.Object({ size: Type.Number() })), n: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    );
    const result = compileObjectValidator(Closed).parse({ items: [{ size: 1 }, { size: 'big' }], extra: 1 });
    expect(result).toEqual({
      ok: false,
      errors: [
        { path: '/extra', message: 'is not an accepted argument' },
        { path: '/n', message: 'is required' },
        { path: '/items/1/size', message: 'must be number' },
      ],
    });
  });

  it('refuses input nested deeper than 64 levels with a coded error', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 70; i++) deep = { d: deep };
    expect(() => validator.parse({ name: 'x', extra: deep })).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_ARGUMENTS' }),
    );
  });
});

describe('compileObjectValidator: defaults, copies and limits', () => {
  /** The value of a valid parse, or a failed test. */
  const parsed = (schema: TSchema, input: unknown): Record<string, unknown> => {
    const result = compileObjectValidator<Record<string, unknown>>(schema).parse(input);
    if (!result.ok) throw new Error(`expected valid input, got ${JSON.stringify(result.errors)}`);
    return result.value;
  };
  /** `levels` objects nested in one another under `a`, with a string at the bottom. */
  const nestedValue = (levels: number): Record<string, unknown> => {
    let node: unknown = 'leaf';
    for (let i = 1; i < levels; i++) node = { d: node };
    return { a: node };
  };
  const withInnerDefault = (extra: Record<string, TSchema>) =>
    Type.Object({ options: Type.Object({ depth: Type.Integer({ default: 2 }) }, { default: {} }), ...extra });

  it('accepts input 64 levels deep and refuses 65, with or without defaults inside the schema', () => {
    for (const schema of [Type.Object({ a: Type.Any() }), withInnerDefault({ a: Type.Any() })]) {
      const validator = compileObjectValidator(schema);
      expect(validator.parse(nestedValue(64)).ok).toBe(true);
      expect(() => validator.parse(nestedValue(65))).toThrow(
        expect.objectContaining({
          code: 'PLUGBOARD_INVALID_ARGUMENTS',
          message: 'Input is nested more than 64 levels deep.',
        }),
      );
      let list: unknown = 'leaf';
      for (let i = 1; i < 65; i++) list = [list];
      expect(() => validator.parse({ a: list })).toThrow(
        expect.objectContaining({ code: 'PLUGBOARD_INVALID_ARGUMENTS' }),
      );
    }
  });

  it('drops unsafe keys deep inside objects and arrays without changing the caller’s value', () => {
    const input = JSON.parse(
      '{"a":{"b":{"constructor":1,"keep":1},"c":[{"prototype":2,"x":1},3]},"__proto__":{"p":1},"z":{"y":1}}',
    );
    const before = structuredClone(input);
    for (const schema of [Type.Object({}), withInnerDefault({})]) {
      const value = parsed(schema, input);
      expect(value).toMatchObject({ a: { b: { keep: 1 }, c: [{ x: 1 }, 3] }, z: { y: 1 } });
      const a = value.a as { b: object; c: [object, number] };
      expect(Object.keys(a.b)).toEqual(['keep']);
      expect(Object.keys(a.c[0])).toEqual(['x']);
      expect(Object.keys(value)).not.toContain('__proto__');
      expect(input).toEqual(before);
      expect(Object.keys(input.a.b)).toEqual(['constructor', 'keep']);
    }
  });

  it('drops unsafe keys from objects that are not plain, without changing them', () => {
    const inner = Object.assign(Object.create(null) as Record<string, unknown>, { constructor: 1, keep: 2 });
    const value = parsed(Type.Object({}), { inner, list: [inner] });
    expect(value).toEqual({ inner: { keep: 2 }, list: [{ keep: 2 }] });
    expect(Object.keys(inner)).toEqual(['constructor', 'keep']);
    const top = Object.assign(Object.create(null) as Record<string, unknown>, { name: 'x', prototype: 1 });
    expect(parsed(Type.Object({ name: Type.String() }), top)).toEqual({ name: 'x' });
  });

  it('gives each call a fresh copy of every default, empty ones included', () => {
    const schema = Type.Object({
      list: Type.Array(Type.String(), { default: [] }),
      map: Type.Object({}, { default: {}, additionalProperties: true }),
      pair: Type.Array(Type.Integer(), { default: [1, 2] }),
      word: Type.String({ default: 'w' }),
      none: Type.Null({ default: null }),
    });
    const first = parsed(schema, {});
    expect(first).toEqual({ list: [], map: {}, pair: [1, 2], word: 'w', none: null });
    (first.list as string[]).push('x');
    (first.map as Record<string, number>).k = 1;
    (first.pair as number[]).push(3);
    expect(parsed(schema, {})).toEqual({ list: [], map: {}, pair: [1, 2], word: 'w', none: null });
    expect(parsed(schema, { word: 'given', list: ['a'] })).toMatchObject({ word: 'given', list: ['a'] });
  });

  it('applies defaults declared anywhere inside the schema', () => {
    const inArrayItems = Type.Object({ a: Type.Array(Type.Object({ x: Type.Integer({ default: 1 }) })) });
    expect(parsed(inArrayItems, { a: [{}, { x: 5 }] })).toEqual({ a: [{ x: 1 }, { x: 5 }] });
    const inObject = Type.Object({ o: Type.Object({ x: Type.Integer({ default: 1 }) }) });
    expect(parsed(inObject, { o: {} })).toEqual({ o: { x: 1 } });
    const deeper = Type.Object({ o: Type.Object({ p: Type.Object({ x: Type.Integer({ default: 1 }) }) }) });
    expect(parsed(deeper, { o: { p: {} } })).toEqual({ o: { p: { x: 1 } } });
    const inUnion = Type.Object({
      u: Type.Union([Type.Object({ x: Type.Integer({ default: 1 }) }), Type.String()]),
    });
    expect(parsed(inUnion, { u: {} })).toEqual({ u: { x: 1 } });
    const inUnionDeeper = Type.Object({
      u: Type.Union([Type.String(), Type.Object({ o: Type.Object({ x: Type.Integer({ default: 1 }) }) })]),
    });
    expect(parsed(inUnionDeeper, { u: { o: {} } })).toEqual({ u: { o: { x: 1 } } });
  });

  it('treats a missing or null value as an empty object and refuses values that are not objects', () => {
    const schema = Type.Object({ n: Type.Integer({ default: 1 }) });
    expect(parsed(schema, undefined)).toEqual({ n: 1 });
    expect(parsed(schema, null)).toEqual({ n: 1 });
    for (const input of [5, 'text', [], [1]]) {
      expect(compileObjectValidator(schema).parse(input)).toEqual({
        ok: false,
        errors: [{ path: '/', message: 'must be object' }],
      });
    }
  });
});

describe('compileObjectValidator: failing fields', () => {
  const errorsOf = (schema: TSchema, input: unknown) => {
    const result = compileObjectValidator(schema).parse(input);
    if (result.ok) throw new Error('expected invalid input');
    return result.errors;
  };
  // Schemas with a keyword beyond type, properties, required and additionalProperties take TypeBox's own error
  // list; the others a faster search. Both must name the same fields in the same words.
  const both = (properties: Record<string, TSchema>, options: Record<string, unknown> = {}) => [
    Type.Object(properties, options),
    Type.Object(properties, { ...options, minProperties: 0 }),
  ];

  it('names a missing field, an unaccepted key and a wrong value the same way on every schema shape', () => {
    for (const schema of both({ a: Type.String(), b: Type.Integer() }, { additionalProperties: false })) {
      expect(errorsOf(schema, { b: 'x', c: 1, d: 2 })).toEqual(
        expect.arrayContaining([
          { path: '/a', message: 'is required' },
          { path: '/c', message: 'is not an accepted argument' },
          { path: '/d', message: 'is not an accepted argument' },
          { path: '/b', message: 'must be integer' },
        ]),
      );
      expect(errorsOf(schema, { b: 'x', c: 1, d: 2 })).toHaveLength(4);
    }
  });

  it('names fields missing or unaccepted inside nested objects with their full path', () => {
    const inner = Type.Object({ b: Type.String() }, { additionalProperties: false });
    for (const schema of both({ o: inner })) {
      const errors = errorsOf(schema, { o: { c: 1 } });
      expect(errors).toHaveLength(2);
      expect(errors).toEqual(
        expect.arrayContaining([
          { path: '/o/c', message: 'is not an accepted argument' },
          { path: '/o/b', message: 'is required' },
        ]),
      );
    }
  });

  it('says a value must be one of the allowed values once, not once per alternative', () => {
    const choice = Type.Union([Type.Literal('x'), Type.Literal('y'), Type.Object({ k: Type.String() })]);
    for (const schema of both({ a: choice, c: Type.Literal('only') })) {
      expect(errorsOf(schema, { a: 'z', c: 'other' })).toEqual([
        { path: '/a', message: 'must be one of the allowed values' },
        { path: '/c', message: 'must be equal to constant' },
      ]);
    }
  });

  it('reports a rule on the whole object at the root path', () => {
    expect(errorsOf(Type.Object({ b: Type.Optional(Type.String()) }, { minProperties: 1 }), {})).toEqual([
      { path: '/', message: 'must not have fewer than 1 properties' },
    ]);
  });

  it('checks extra keys against a schema for them', () => {
    const schema = Type.Object({ a: Type.String() }, { additionalProperties: Type.Number() });
    expect(errorsOf(schema, { a: 'ok', b: 'x' })).toEqual([{ path: '/b', message: 'must be number' }]);
    expect(compileObjectValidator(schema).parse({ a: 'ok', b: 2 })).toEqual({
      ok: true,
      value: { a: 'ok', b: 2 },
    });
  });
});
