/**
 * The schemas a plugin declares, as the host reads them at start: the JSON Schemas it publishes for forms and
 * OpenAPI, and the reason it gives, word for word, when a schema cannot be used.
 */
import { ActionPlugin, type Host, Task, Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest } from './helpers.js';

const started = hostsStartedPerTest();

class Noop extends Task {
  run() {
    return null;
  }
}

/** A plugin class with `schemas` (args, properties, flags) as declared. */
function pluginWith(id: string, schemas: Record<string, unknown>) {
  return class extends ActionPlugin({ id, name: id, tasks: [Noop], ...schemas } as never) {
    createTasks() {}
  };
}

const unusable = (id: string, problems: string, key = 'args') =>
  `The \`${key}\` schema of plugin \`${id}\` is not usable: ${problems}. Declare it with Type.Object({...}).`;

describe('published schemas', () => {
  it('publishes each schema as a plain JSON copy, apart from the schema the plugin declared', async () => {
    const Args = Type.Object({
      name: Type.String({ minLength: 1, description: 'Who to greet' }),
      times: Type.Integer({ minimum: 1, default: 1 }),
      mode: Type.Union([Type.Literal('a'), Type.Literal('b')]),
    });
    const Flags = Type.Object({ verbose: Type.Optional(Type.Boolean()) });
    const host = await started([pluginWith('greet', { args: Args, flags: Flags })]);
    const info = host.plugins.get('greet');
    if (!info) throw new Error('expected the plugin to be registered');
    expect(info.status).toBe('operational');
    expect(info.schemas.args).toEqual(JSON.parse(JSON.stringify(Args)));
    expect(info.schemas.flags).toEqual(JSON.parse(JSON.stringify(Flags)));
    expect(info.schemas.properties).toEqual({ type: 'object', properties: {}, required: [] });
    expect(info.schemas.args).not.toBe(Args);
    (info.schemas.args.properties as Record<string, { minLength: number }>).name!.minLength = 9;
    expect(Args.properties.name).toMatchObject({ minLength: 1 });
  });
});

describe('unusable schemas', () => {
  async function reasons(cases: Record<string, [Record<string, unknown>, string]>): Promise<Host> {
    const host = await started(Object.entries(cases).map(([id, [schemas]]) => pluginWith(id, schemas)));
    for (const [id, [, reason]] of Object.entries(cases)) {
      expect(host.plugins.get(id), id).toMatchObject({ status: 'invalid', code: 'PLUGBOARD_INVALID_SCHEMA' });
      expect(host.plugins.get(id)?.reason, id).toBe(reason);
    }
    return host;
  }

  it('names a wrong type at the top once, not again for the schema inside', async () => {
    await reasons({
      'wrong-top': [
        { args: { type: 'objekt', properties: { a: { type: 'strin' } } } },
        unusable('wrong-top', 'expected `type: "object"` at the top, got "objekt"'),
      ],
      'wrong-props': [
        { args: { type: 'object', properties: 'a' } },
        unusable('wrong-props', '`properties` must be an object of schemas'),
      ],
    });
  });

  it('lists every problem of a schema in order, in the properties and flags schemas too', async () => {
    await reasons({
      many: [
        {
          args: {
            type: 'object',
            required: [1],
            properties: {
              a: { type: 'strin', minLength: '1', maxItems: null },
              b: { type: 'array', items: { type: ['string', 'when'] } },
              c: { anyOf: [{ type: 'string' }], oneOf: [null], allOf: [{ type: 'string', maximum: 'x' }] },
            },
          },
        },
        unusable(
          'many',
          [
            '/required must be an array of names',
            '/a: unknown type "strin"',
            '/a/minLength must be a number',
            '/a/maxItems must be a number',
            '/b/items: unknown type "when"',
            '/c/oneOf/0: a schema must be an object',
            '/c/allOf/0/maximum must be a number',
          ].join('; '),
        ),
      ],
      'nested-props': [
        {
          args: {
            type: 'object',
            properties: { o: { type: 'object', properties: null }, p: { type: 'object', properties: 'ab' } },
          },
        },
        unusable(
          'nested-props',
          '/o/properties must be an object of schemas; /p/properties must be an object of schemas',
        ),
      ],
      props: [
        { properties: { type: 'object', properties: { p: { type: 'number', minimum: '0' } } } },
        unusable('props', '/p/minimum must be a number', 'properties'),
      ],
      flags: [
        { flags: { type: 'array' } },
        unusable('flags', 'expected `type: "object"` at the top, got "array"', 'flags'),
      ],
    });
  });

  it('accepts one schema object used in several places, which is not a schema that contains itself', async () => {
    const Name = Type.String({ minLength: 1 });
    const Pair = Type.Object({ first: Name, second: Name });
    const host = await started([
      pluginWith('shared', { args: Type.Object({ a: Pair, b: Pair, list: Type.Array(Pair), name: Name }) }),
    ]);
    expect(host.plugins.get('shared')).toMatchObject({ status: 'operational', reason: null });
  });
});
