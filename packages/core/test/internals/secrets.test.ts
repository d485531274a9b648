import { Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import {
  isSecretSchema,
  SECRET_PLACEHOLDER,
  secretRedactor,
  secretValuesOf,
  withoutSecretExamples,
} from '../../src/secrets.js';

/** An object nested `levels` deep: { a: { a: ... { a: leaf } } }. */
function nested(levels: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('which schema nodes are secret', () => {
  it('is exactly those marked writeOnly: true', () => {
    expect(isSecretSchema(Type.String({ writeOnly: true }))).toBe(true);
    expect(isSecretSchema({ writeOnly: 'yes' })).toBe(false);
    expect(isSecretSchema(Type.String())).toBe(false);
    expect(isSecretSchema(null)).toBe(false);
    expect(isSecretSchema('writeOnly')).toBe(false);
  });
});

describe('the secret values of resolved properties', () => {
  const Secret = Type.String({ writeOnly: true });

  it('are the non-empty strings under secret nodes, wherever the schema puts them', () => {
    const schema = Type.Object({
      apiKey: Secret,
      name: Type.String(),
      nested: Type.Object({ token: Secret, plain: Type.String() }),
      keys: Type.Array(Secret),
      byHost: Type.Record(Type.String(), Secret),
      either: Type.Union([Type.Object({ pin: Secret }), Type.Object({ code: Type.String() })]),
      empty: Secret,
    });
    const value = {
      apiKey: 'k-1',
      name: 'public name',
      nested: { token: 't-2', plain: 'public too' },
      keys: ['a-3', 'b-4'],
      byHost: { 'example.org': 'h-5' },
      either: { pin: 'p-6' },
      empty: '',
    };
    expect(secretValuesOf(schema, value).sort()).toEqual(['a-3', 'b-4', 'h-5', 'k-1', 'p-6', 't-2']);
  });

  it('takes every string leaf of an object or array marked secret, and nothing that is not a string', () => {
    const schema = Type.Object({
      vault: Type.Object(
        { user: Type.String(), pass: Type.String(), port: Type.Number() },
        { writeOnly: true },
      ),
      list: Type.Array(Type.Union([Type.String(), Type.Number()]), { writeOnly: true }),
    });
    const value = { vault: { user: 'u-1', pass: 'p-2', port: 5432 }, list: ['l-3', ['l-4'], 7, null] };
    expect(secretValuesOf(schema, value).sort()).toEqual(['l-3', 'l-4', 'p-2', 'u-1']);
  });

  it('ignores values the schema does not describe, extra keys when additional properties are not secret, and absent values', () => {
    const schema = Type.Object({ apiKey: Secret }, { additionalProperties: Type.String() });
    expect(secretValuesOf(schema, { other: 'not secret', apiKey: 'k' })).toEqual(['k']);
    expect(secretValuesOf(schema, {})).toEqual([]);
    expect(secretValuesOf(schema, undefined)).toEqual([]);
    expect(secretValuesOf(schema, ['k'])).toEqual([]);
    expect(secretValuesOf(Type.Array(Secret), { 0: 'k' })).toEqual([]);
    expect(secretValuesOf(null, 'k')).toEqual([]);
    expect(secretValuesOf({ properties: null, items: null }, { a: 'k' })).toEqual([]);
    // Pattern properties: a key that does not match is not described by the pattern's schema.
    const onlyPins = { type: 'object', patternProperties: { '^pin-': Secret, '^note-': Type.String() } };
    expect(secretValuesOf(onlyPins, { 'pin-1': 'p', 'note-1': 'n', other: 'o' })).toEqual(['p']);
    // A pattern that does not compile is applied to every key: a secret is never missed for it.
    expect(secretValuesOf({ patternProperties: { '(': Secret } }, { any: 'k' })).toEqual(['k']);
  });

  it('finds secrets in extra keys when additional properties are secret, and only there', () => {
    const schema = Type.Object({ name: Type.String() }, { additionalProperties: Secret });
    expect(secretValuesOf(schema, { name: 'public', alpha: 'x-1', beta: 'x-2' }).sort()).toEqual([
      'x-1',
      'x-2',
    ]);
    const nestedExtra = Type.Object({
      tokens: Type.Object({}, { additionalProperties: Type.Array(Secret) }),
    });
    expect(secretValuesOf(nestedExtra, { tokens: { a: ['t-1'], b: ['t-2', 't-3'] } }).sort()).toEqual([
      't-1',
      't-2',
      't-3',
    ]);
  });

  it('reads null and scalar values where the schema expects an object or array without failing', () => {
    const schema = Type.Object({
      inner: Type.Object({ key: Secret }, { additionalProperties: Secret }),
      list: Type.Array(Secret),
    });
    expect(secretValuesOf(schema, { inner: null, list: null })).toEqual([]);
    expect(secretValuesOf(schema, { inner: 'k', list: 'k' })).toEqual([]);
    expect(secretValuesOf(schema, { inner: ['k'], list: { 0: 'k' } })).toEqual([]);
  });

  it('stops at 256 levels of nesting', () => {
    const deep = (levels: number) => {
      let schema: unknown = Secret;
      for (let i = 0; i < levels; i++) schema = Type.Object({ a: schema as never });
      return schema;
    };
    expect(secretValuesOf(deep(255), nested(255, 'deep'))).toEqual(['deep']);
    expect(secretValuesOf(deep(256), nested(256, 'at the limit'))).toEqual(['at the limit']);
    expect(secretValuesOf(deep(257), nested(257, 'past the limit'))).toEqual([]);
    // Through arrays and unions as well as objects.
    let throughItems: unknown = Secret;
    let value: unknown = 'deep item';
    for (let i = 0; i < 150; i++) {
      throughItems = Type.Array(Type.Union([throughItems as never, Type.Null()]));
      value = [value];
    }
    expect(secretValuesOf(throughItems, value)).toEqual([]);
    // The string leaves of a secret object stop at the same limit.
    expect(secretValuesOf(Type.Unknown({ writeOnly: true }), nested(256, 'leaf'))).toEqual(['leaf']);
    expect(secretValuesOf(Type.Unknown({ writeOnly: true }), nested(257, 'leaf'))).toEqual([]);
    expect(secretValuesOf(deep(300), nested(300, 'too deep'))).toEqual([]);
  });
});

describe('a schema shown to people', () => {
  it('loses the default and examples of secret nodes only, at any depth, and is a copy', () => {
    const schema = Type.Object({
      apiKey: Type.String({ writeOnly: true, default: 'k-default', examples: ['k-example'] }),
      name: Type.String({ default: 'Ada', examples: ['Grace'] }),
      keys: Type.Array(Type.String({ writeOnly: true, default: 'a-default' })),
      branches: Type.Union([Type.String({ writeOnly: true, examples: ['u-example'] }), Type.Number()]),
    });
    const shown = withoutSecretExamples(schema) as unknown as Record<string, any>;
    const text = JSON.stringify(shown);
    for (const secret of ['k-default', 'k-example', 'a-default', 'u-example'])
      expect(text).not.toContain(secret);
    expect(shown.properties.apiKey).toMatchObject({ type: 'string', writeOnly: true });
    expect(shown.properties.name).toMatchObject({ default: 'Ada', examples: ['Grace'] });
    expect(Array.isArray(shown.properties.branches.anyOf)).toBe(true);
    expect(shown.properties.branches.anyOf[1]).toMatchObject({ type: 'number' });
    expect((schema.properties.apiKey as { default?: string }).default).toBe('k-default');
  });

  it('keeps null, scalars and arrays as they are, and copies nesting down to 256 levels', () => {
    const shown = withoutSecretExamples({
      type: 'object',
      default: null,
      enum: [null, 1, 'a'],
      examples: [{ a: [1, 2] }],
    });
    expect(shown).toEqual({ type: 'object', default: null, enum: [null, 1, 'a'], examples: [{ a: [1, 2] }] });
    expect(withoutSecretExamples(null)).toBeNull();
    expect(withoutSecretExamples('text')).toBe('text');
    const deep = (levels: number) => nested(levels, { writeOnly: true, default: 'hidden' });
    expect(JSON.stringify(withoutSecretExamples(deep(255)))).not.toContain('hidden');
    // Past the limit the node is kept as it is (the schema compiler refuses such nesting long before).
    expect(JSON.stringify(withoutSecretExamples(deep(300)))).toContain('hidden');
    const list = [{ writeOnly: true, examples: ['e'] }];
    expect(withoutSecretExamples(list)).toEqual([{ writeOnly: true }]);
  });
});

describe('a secret redactor', () => {
  it('does nothing without secrets', () => {
    for (const none of [undefined, []]) {
      const redactor = secretRedactor(none);
      expect(redactor.active).toBe(false);
      expect(redactor.text('anything')).toBe('anything');
    }
  });

  it('replaces every occurrence, the longest secret first, and reads secrets as text, not patterns', () => {
    const redactor = secretRedactor(['abc', 'abcdef', 'a.c', 'abc', '']);
    expect(redactor.active).toBe(true);
    expect(redactor.text('abcdef then abc and abc')).toBe(
      `${SECRET_PLACEHOLDER} then ${SECRET_PLACEHOLDER} and ${SECRET_PLACEHOLDER}`,
    );
    expect(redactor.text('a.c but not axc')).toBe(`${SECRET_PLACEHOLDER} but not axc`);
    expect(secretRedactor(['x(y']).text('x(y) [x(y]')).toBe(`${SECRET_PLACEHOLDER}) [${SECRET_PLACEHOLDER}]`);
  });

  it('is built once per list', () => {
    const secrets = ['s3cret'];
    expect(secretRedactor(secrets)).toBe(secretRedactor(secrets));
  });

  it('replaces secrets in strings, array items and keys of a JSON value, and leaves it untouched when there is none', () => {
    const redactor = secretRedactor(['s3cret']);
    const clean = { list: ['a', { b: 1 }], n: 2, nil: null, flag: true };
    expect(redactor.value(clean)).toBe(clean);
    expect(redactor.value(clean.list)).toBe(clean.list);
    const dirty = {
      message: 'key s3cret',
      list: ['plain', 'also s3cret', { 's3cret-key': 's3cret' }],
      keep: { untouched: 'yes' },
      n: 3,
    };
    const safe = redactor.value(dirty);
    expect(safe).toEqual({
      message: `key ${SECRET_PLACEHOLDER}`,
      list: ['plain', `also ${SECRET_PLACEHOLDER}`, { [`${SECRET_PLACEHOLDER}-key`]: SECRET_PLACEHOLDER }],
      keep: { untouched: 'yes' },
      n: 3,
    });
    expect(safe.keep).toBe(dirty.keep);
    expect(dirty.message).toBe('key s3cret');
    expect(redactor.value('s3cret')).toBe(SECRET_PLACEHOLDER);
    expect(redactor.value(42)).toBe(42);
  });

  it('keeps a __proto__ key a plain, writable key of the copy', () => {
    const redactor = secretRedactor(['s3cret']);
    const parsed = JSON.parse('{"__proto__": {"polluted": "s3cret"}, "x": "s3cret"}');
    const safe = redactor.value(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(safe, '__proto__')).toEqual({
      value: { polluted: SECRET_PLACEHOLDER },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('replaces whatever is nested deeper than 256 levels as a whole', () => {
    const redactor = secretRedactor(['s3cret']);
    expect(redactor.value(nested(256, 'kept'))).toEqual(nested(256, 'kept'));
    expect(JSON.stringify(redactor.value(nested(257, { b: 'x' })))).toContain(`"a":"${SECRET_PLACEHOLDER}"`);
    const list = ['a', 'b', 's3cret'];
    expect(redactor.value(list)).toEqual(['a', 'b', SECRET_PLACEHOLDER]);
    expect(list).toEqual(['a', 'b', 's3cret']);
    const deepList: unknown[] = ['x'];
    let node = deepList;
    for (let i = 0; i < 300; i++) {
      const next: unknown[] = ['x'];
      node.push(next);
      node = next;
    }
    expect(JSON.stringify(redactor.value(deepList))).toContain(`"${SECRET_PLACEHOLDER}"`);
    expect(JSON.stringify(redactor.value(nested(250, 'fine')))).toContain('"fine"');
    const deep = JSON.stringify(redactor.value(nested(300, 'hidden s3cret')));
    expect(deep).not.toContain('s3cret');
    expect(deep).toContain(`"a":"${SECRET_PLACEHOLDER}"`);
  });
});
