import { compileObjectValidator, Type } from '@plugboard/core';
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
