import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { TObject, TSchema } from 'typebox';
import { describeThrown, type FieldError, PlugboardError } from '../errors.js';
import type { PluginClass } from '../plugin.js';
import { coerceFromStrings, compileObjectValidator } from '../schema.js';

/** Where app property values come from; later sources override earlier ones. */
export interface PropertySourceOptions {
  /** Values per plugin id, set by the host in code: `{ greet: { greeting: 'Hi' } }`. */
  readonly values?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** A JSON file with the same shape as `values`; it overrides them. */
  readonly file?: string;
  /**
   * Environment variables, which override the file; `false` turns them off.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>> | false;
  /**
   * The prefix of property environment variables.
   * @default 'PLUGBOARD_'
   */
  readonly envPrefix?: string;
}

function envSegment(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/**
 * The environment variable that sets a property: prefix, plugin id, two underscores, property name,
 * each upper-cased with camelCase and punctuation turned into `_`.
 *
 * @example propertyEnvName('media-scan', 'rootDir') === 'PLUGBOARD_MEDIA_SCAN__ROOT_DIR'
 */
export function propertyEnvName(pluginId: string, property: string, prefix = 'PLUGBOARD_'): string {
  return `${prefix}${envSegment(pluginId)}__${envSegment(property)}`;
}

function schemaTypeOf(schema: TSchema | undefined): string | undefined {
  const type = (schema as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' ? type : undefined;
}

/** Resolves plugins' app properties from the host's sources. */
export class PropertyResolver {
  readonly #options: PropertySourceOptions;
  #file: Record<string, Record<string, unknown>> = {};

  constructor(options: PropertySourceOptions = {}) {
    this.#options = options;
  }

  /** Reads the JSON file, if any. A configured file that is missing or malformed stops the start. */
  async load(): Promise<void> {
    const { file } = this.#options;
    if (!file) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Cannot read the properties file \`${file}\`: ${describeThrown(error)}. Create it or remove \`properties.file\`.`,
        { cause: error },
      );
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('expected an object');
      this.#file = parsed as Record<string, Record<string, unknown>>;
    } catch (error) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `The properties file \`${file}\` is not a JSON object of plugin ids to values: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
  }

  /** Merges the sources for one plugin, applies defaults and validates; returns the failing fields if any. */
  resolve(
    pluginId: string,
    schema: TObject,
  ): { ok: true; value: unknown } | { ok: false; errors: FieldError[] } {
    const merged: Record<string, unknown> = {
      ...(this.#options.values?.[pluginId] ?? {}),
      ...(this.#file[pluginId] ?? {}),
    };
    const env = this.#options.env === false ? undefined : (this.#options.env ?? process.env);
    if (env) {
      const fromEnv: Record<string, unknown> = {};
      const prefix = this.#options.envPrefix ?? 'PLUGBOARD_';
      for (const [name, child] of Object.entries(schema.properties ?? {})) {
        const raw = env[propertyEnvName(pluginId, name, prefix)];
        if (raw === undefined) continue;
        const type = schemaTypeOf(child as TSchema);
        if (type === 'object' || type === 'array') {
          try {
            fromEnv[name] = JSON.parse(raw);
          } catch {
            fromEnv[name] = raw;
          }
        } else fromEnv[name] = raw;
      }
      Object.assign(merged, coerceFromStrings(schema, fromEnv) as Record<string, unknown>);
    }
    return compileObjectValidator(schema).parse(merged);
  }
}

/** Parses plugins' start-up flags (`--<plugin id>.<name> value`) from the host's argv. */
export class FlagParser {
  readonly #values: Record<string, unknown>;

  /** Parses `argv` once for every plugin's flag schema; flags that belong to no plugin are left to the host. */
  constructor(argv: readonly string[], schemas: ReadonlyArray<{ pluginId: string; schema: TObject }>) {
    const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
    for (const { pluginId, schema } of schemas) {
      for (const [name, child] of Object.entries(schema.properties ?? {})) {
        const type = schemaTypeOf(child as TSchema);
        options[`${pluginId}.${name}`] =
          type === 'boolean'
            ? { type: 'boolean' }
            : type === 'array'
              ? { type: 'string', multiple: true }
              : { type: 'string' };
      }
    }
    const parsed = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true });
    this.#values = parsed.values as Record<string, unknown>;
  }

  /** The validated flags of one plugin, defaults applied. */
  resolve(
    pluginId: string,
    schema: TObject,
  ): { ok: true; value: unknown } | { ok: false; errors: FieldError[] } {
    const raw: Record<string, unknown> = {};
    for (const name of Object.keys(schema.properties ?? {})) {
      const value = this.#values[`${pluginId}.${name}`];
      if (value !== undefined) raw[name] = value;
    }
    return compileObjectValidator(schema).parse(coerceFromStrings(schema, raw));
  }
}

/** The start-up flag parser of these plugin classes: each plugin's `flags` schema read from `argv`. */
export function flagParserFor(argv: readonly string[], classes: readonly PluginClass[]): FlagParser {
  return new FlagParser(
    argv,
    classes.flatMap((cls) => {
      try {
        const def = cls.definition as { id?: unknown; flags?: unknown };
        return typeof def?.id === 'string' && def.flags && typeof def.flags === 'object'
          ? [{ pluginId: def.id, schema: def.flags as never }]
          : [];
      } catch {
        // A definition that cannot be read is reported when the class is validated.
        return [];
      }
    }),
  );
}
