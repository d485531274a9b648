import type { PluginInfo } from '@plugboard/core';
import { type Command, Option } from 'commander';
import type { CliSession } from '../cli-session.js';
import { FLAG_CHOICES } from '../completion.js';
import { ExitCode } from '../exit-codes.js';
import {
  convertEnvText,
  convertFlagText,
  type FlagSpec,
  flagHelp,
  flagName,
  flagPlaceholder,
  flagsFromSchema,
} from '../schema-flags.js';
import { runTasks } from '../task-run.js';

const FLAGS_GROUP = 'Flags:';

function collect() {
  // Commander hands the previous value; the first occurrence starts a fresh list.
  return (value: string, previous: unknown) => (Array.isArray(previous) ? [...previous, value] : [value]);
}

function addFlag(command: Command, spec: FlagSpec): Option {
  if (spec.type === 'boolean' && !spec.repeatable) {
    const option = new Option(`--${spec.flag}`, flagHelp(spec)).helpGroup(FLAGS_GROUP);
    command.addOption(option);
    command.addOption(
      new Option(`--no-${spec.flag}`, `Set \`${spec.property}\` to false`).helpGroup(FLAGS_GROUP),
    );
    return option;
  }
  const option = new Option(`--${spec.flag} ${flagPlaceholder(spec)}`, flagHelp(spec))
    .helpGroup(FLAGS_GROUP)
    .argParser(spec.repeatable ? collect() : (value: string) => value);
  command.addOption(option);
  if (spec.choices) FLAG_CHOICES.set(option, spec.choices.map(String));
  return option;
}

/** Reads the flags given on the command line, then the `env` fallbacks, into plugin arguments. */
function argumentsFrom(
  command: Command,
  flags: ReadonlyArray<{ spec: FlagSpec; option: Option }>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, unknown> {
  const values = command.opts();
  const args: Record<string, unknown> = {};
  for (const { spec, option } of flags) {
    const key = option.attributeName();
    if (command.getOptionValueSource(key) === 'cli') {
      const raw = values[key] as unknown;
      args[spec.property] = Array.isArray(raw)
        ? raw.map((text: string) => convertFlagText(spec, text))
        : typeof raw === 'string'
          ? convertFlagText(spec, raw)
          : raw;
    } else if (spec.env && env[spec.env] !== undefined) {
      args[spec.property] = convertEnvText(spec, env[spec.env]!);
    }
  }
  return args;
}

/**
 * Adds the sub-command of an operational action or context plugin: one flag per argument property, the
 * context id as a positional argument or `--<idArgument>`, and `--json`.
 */
export function addPluginCommand(program: Command, session: CliSession<any>, info: PluginInfo): Command {
  const idFlag = info.context ? flagName(info.context.idArgument) : undefined;
  const reserved = new Set(['help', 'json', ...(idFlag ? [idFlag] : [])]);
  const specs = flagsFromSchema(info.schemas.args, reserved);
  const command = program
    .command(info.id)
    .helpGroup('Plugins:')
    .summary((info.description ?? info.name).split('\n')[0]!)
    .description([info.name, info.description].filter(Boolean).join('\n\n'));
  if (info.context) {
    const what = info.context.description ?? `The id of the ${info.context.kind} to act on`;
    command.argument(`[${info.context.idArgument}]`, what);
    command.addOption(
      new Option(`--${idFlag} <id>`, `${what} (instead of the argument)`).helpGroup(FLAGS_GROUP),
    );
  }
  const flags = specs.map((spec) => ({ spec, option: addFlag(command, spec) }));
  command.option('--json', 'Print the final task records as JSON instead of progress');
  command.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const json = self.opts().json === true;
    const scope = {
      json,
      command: info.id,
      flags: specs,
      contextArgument: info.context?.idArgument,
    };
    let context: string | undefined;
    if (info.context) {
      const positional = params[0] as string | undefined;
      const option = self.opts()[new Option(`--${idFlag} <id>`).attributeName()] as string | undefined;
      if (positional !== undefined && option !== undefined && positional !== option) {
        session.err(
          `error: pass the ${info.context.kind} id once: got \`${positional}\` as the argument and \`${option}\` as --${idFlag}.`,
        );
        session.exitCode = ExitCode.Usage;
        return;
      }
      context = positional ?? option;
    }
    const args = argumentsFrom(self, flags, session.options.env);
    const user = await session.user();
    session.exitCode = await runTasks(
      session,
      () => session.host.execute(info.id, args, { user, context }),
      scope,
    );
  });
  return command;
}

/**
 * Adds a hidden sub-command for a plugin that is not operational: running it reports the host's reason and
 * exits 3, whatever flags it was given.
 */
export function addUnavailablePluginCommand(
  program: Command,
  session: CliSession<any>,
  info: PluginInfo,
): Command {
  const command = program
    .command(info.id, { hidden: true })
    .description(`${info.name}\n\nNot operational (${info.status}): ${info.reason ?? 'no reason given'}`)
    .allowUnknownOption()
    .allowExcessArguments()
    .option('--json', 'Print the error as JSON');
  command.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const user = await session.user();
    // The host raises the coded error (PLUGBOARD_PLUGIN_NOT_OPERATIONAL) with the plugin's reason.
    session.exitCode = await runTasks(session, () => session.host.execute(info.id, {}, { user }), {
      json: self.opts().json === true,
      command: info.id,
    });
  });
  return command;
}
