import { Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { convertEnvText, convertFlagText, flagName, flagsFromSchema } from '../../src/schema-flags.js';

const schema = (s: unknown) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>;

describe('flags from an argument schema', () => {
  it('names flags in kebab case and moves a flag that clashes with a built-in one to --arg-<name>', () => {
    expect(flagName('dryRun')).toBe('dry-run');
    expect(flagName('output_dir')).toBe('output_dir');
    const flags = flagsFromSchema(
      schema(Type.Object({ json: Type.Boolean(), dryRun: Type.Boolean() })),
      new Set(['json']),
    );
    expect(flags.map((f) => f.flag)).toEqual(['arg-json', 'dry-run']);
  });

  it('reads choices from enum, const and unions of literals, and unwraps nullable types', () => {
    const flags = flagsFromSchema(
      schema(
        Type.Object({
          mode: Type.Union([Type.Literal('fast'), Type.Literal('slow')]),
          level: Type.Union([Type.Literal(1), Type.Literal(2)]),
          name: Type.Union([Type.String(), Type.Null()]),
          picks: Type.Array(Type.Union([Type.Literal('a'), Type.Literal('b')])),
        }),
      ),
      new Set(),
    );
    expect(flags.map((f) => [f.property, f.type, f.choices, f.repeatable])).toEqual([
      ['mode', 'string', ['fast', 'slow'], false],
      ['level', 'number', [1, 2], false],
      ['name', 'string', null, false],
      ['picks', 'string', ['a', 'b'], true],
    ]);
  });

  it('marks a property required only when the person must pass it: required and without default', () => {
    const flags = flagsFromSchema(
      schema(
        Type.Object({ a: Type.String(), b: Type.String({ default: 'x' }), c: Type.Optional(Type.String()) }),
      ),
      new Set(),
    );
    expect(flags.map((f) => f.required)).toEqual([true, false, false]);
  });

  it('converts numbers and booleans, and leaves text that does not convert for the host to reject', () => {
    expect(convertFlagText({ type: 'integer' }, '42')).toBe(42);
    expect(convertFlagText({ type: 'number' }, '-1.5e2')).toBe(-150);
    expect(convertFlagText({ type: 'integer' }, 'many')).toBe('many');
    expect(convertFlagText({ type: 'boolean' }, 'yes')).toBe(true);
    expect(convertFlagText({ type: 'boolean' }, 'off')).toBe(false);
    expect(convertFlagText({ type: 'boolean' }, 'maybe')).toBe('maybe');
    expect(convertFlagText({ type: 'json' }, '{"a":1}')).toEqual({ a: 1 });
    expect(convertFlagText({ type: 'json' }, '{oops')).toBe('{oops');
  });

  it('reads a repeatable flag from the environment as a JSON array or comma-separated values', () => {
    const [tags, counts] = flagsFromSchema(
      schema(Type.Object({ tags: Type.Array(Type.String()), counts: Type.Array(Type.Integer()) })),
      new Set(),
    );
    expect(convertEnvText(tags!, 'a, b,c')).toEqual(['a', 'b', 'c']);
    expect(convertEnvText(tags!, '["a,b"]')).toEqual(['a,b']);
    expect(convertEnvText(counts!, '1,2')).toEqual([1, 2]);
  });
});
