import { Command, CommanderError } from 'commander';
import type { CliSession } from './cli-session.js';
import { addCompletionCommand } from './commands/completion-command.js';
import { addDevCommand } from './commands/dev-command.js';
import { addPluginCommand, addUnavailablePluginCommand } from './commands/plugin-command.js';
import { addPluginsCommand } from './commands/plugins-command.js';
import { addRunCommand } from './commands/run-command.js';
import { addSchedulesCommand } from './commands/schedules-command.js';
import { addTasksCommand } from './commands/tasks-command.js';
import { COMPLETE_COMMAND, completionCandidates } from './completion.js';
import { reportError } from './error-report.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { closestNames, didYouMean } from './suggestion.js';

const RUNNABLE_KINDS = new Set(['action', 'context']);

const EXIT_CODES_HELP = `
Exit codes:
  0  every task succeeded
  1  a task failed, was cancelled or timed out
  2  usage error: unknown plugin, bad flag or bad value
  3  the plugin is not operational`;

/** How the command line is being parsed: which commands exist, and whether errors are printed as JSON. */
interface ParseScope {
  /** Only plugin commands (after `run`), no built-in commands. */
  readonly pluginsOnly: boolean;
  /** `--json` was given: usage errors are printed as `{ "error": ... }` on stderr. */
  readonly json: boolean;
}

/** True when `--json` is among the options (before a `--` that ends them). */
function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** Prints a usage error as the JSON document every `--json` error is, on stderr. */
function printJsonError(session: CliSession<any>, code: string, message: string, details: object): void {
  session.err(JSON.stringify({ error: { code, message, details } }, null, 2));
}

function unknownCommand(session: CliSession<any>, program: Command, name: string, scope: ParseScope): void {
  const plugin = session.host.plugins.get(name);
  const shownName = name.slice(0, 80);
  let message: string;
  let suggestions: string[] = [];
  if (plugin?.kind === 'background') {
    message = `Plugin \`${name}\` is a background-task plugin: it runs on its schedule. Run it now with \`${session.name} schedules trigger ${name}\`.`;
  } else if (plugin) {
    message = `Plugin \`${name}\` only implements plugin points: it has nothing to run.`;
  } else {
    message = `No plugin or command is called \`${shownName}\`. Run \`${session.name} plugins\` to list the plugins.`;
    const visible = program.createHelp().visibleCommands(program);
    suggestions = closestNames(
      name,
      visible.map((command) => command.name()),
    );
  }
  session.exitCode = ExitCode.Usage;
  if (scope.json) {
    const hint = suggestions.length > 0 ? ` ${didYouMean(name, suggestions).slice(1, -1)}` : '';
    printJsonError(
      session,
      'PLUGBOARD_UNKNOWN_PLUGIN',
      `${message}${hint}`,
      suggestions.length > 0 ? { suggestions } : {},
    );
    return;
  }
  session.err(
    `${session.palette.red('error:')} ${message}${session.palette.dim(' (PLUGBOARD_UNKNOWN_PLUGIN)')}`,
  );
  if (suggestions.length > 0) session.err(didYouMean(name, suggestions));
}

function unavailableHelp(session: CliSession<any>): string {
  const unavailable = session.host.plugins
    .list()
    .filter((p) => p.status !== 'operational' && RUNNABLE_KINDS.has(p.kind));
  if (unavailable.length === 0) return '';
  const width = Math.max(...unavailable.map((p) => p.id.length));
  const lines = unavailable.map(
    (p) => `  ${p.id.padEnd(width)}  ${p.status}: ${p.reason ?? 'no reason given'}`,
  );
  return `\nNot operational (running one exits 3):\n${lines.join('\n')}\n`;
}

/** Builds the commander program: built-in commands (unless `pluginsOnly`) and one command per plugin. */
export function buildProgram(session: CliSession<any>, scope: ParseScope): Command {
  const { options } = session;
  const program = new Command(session.name)
    .exitOverride()
    .enablePositionalOptions()
    // With --json the error is printed as JSON once parsing has failed (see parseCommandLine), not as text.
    .showHelpAfterError(scope.json ? false : `(run with --help for usage)`)
    .configureOutput({
      writeOut: (text) => void options.stdout.write(text),
      writeErr: (text) => void options.stderr.write(text),
      outputError: (text, write) => {
        if (!scope.json) write(text);
      },
      getOutHelpWidth: () => options.stdout.columns ?? 100,
      getErrHelpWidth: () => options.stderr.columns ?? 100,
      getOutHasColors: () => session.palette.enabled,
      getErrHasColors: () => session.palette.enabled,
    });

  if (options.description) program.description(options.description);
  if (options.version) program.version(options.version);
  program.on('command:*', (operands: string[]) => unknownCommand(session, program, operands[0] ?? '', scope));

  for (const info of session.host.plugins.list()) {
    if (!RUNNABLE_KINDS.has(info.kind)) continue;
    if (
      !scope.pluginsOnly &&
      ['plugins', 'tasks', 'schedules', 'dev', 'run', 'help', 'completion'].includes(info.id)
    )
      continue;
    if (info.status === 'operational') addPluginCommand(program, session, info);
    else addUnavailablePluginCommand(program, session, info);
  }
  if (!scope.pluginsOnly) {
    program.commandsGroup('Commands:');
    addPluginsCommand(program, session);
    addTasksCommand(program, session);
    addSchedulesCommand(program, session);
    addDevCommand(program, session);
    addCompletionCommand(program, session);
    addRunCommand(program, async (argv) => {
      session.exitCode = await parseCommandLine(session, argv, { pluginsOnly: true });
    });
    program.helpCommand('help [command]', 'Show help for a command or plugin');
    program.addHelpText('after', () => `${unavailableHelp(session)}${EXIT_CODES_HELP}`);
  }
  return program;
}

/** Exit codes of commander's own outcomes: help and version are success, everything else is usage. */
function commanderExitCode(error: CommanderError): ExitCodeValue {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Success;
  // `help <command>` exits 0; help shown because the command was missing exits 1 in commander.
  if (error.code === 'commander.help' && error.exitCode === 0) return ExitCode.Success;
  return ExitCode.Usage;
}

/** A commander parse error as the JSON error `--json` prints: the message without its `error:` prefix. */
function printCommanderError(session: CliSession<any>, error: CommanderError): void {
  const [first = '', ...rest] = error.message.replace(/^error: /, '').split('\n');
  const details: Record<string, unknown> = {};
  const unknown = /^unknown option '([^']*)'/.exec(first)?.[1];
  if (unknown !== undefined) {
    details.option = unknown;
    const suggested = [...rest.join(' ').matchAll(/--[\w-]+/g)].map((match) => match[0]);
    if (suggested.length > 0) details.suggestions = suggested;
  }
  printJsonError(session, 'PLUGBOARD_INVALID_ARGUMENTS', [first, ...rest].join(' '), details);
}

/** Parses `argv` (the user's arguments only) and runs the command it names; resolves the exit code. */
export async function parseCommandLine(
  session: CliSession<any>,
  argv: readonly string[],
  scope: { readonly pluginsOnly: boolean },
): Promise<ExitCodeValue> {
  if (!scope.pluginsOnly && argv[0] === COMPLETE_COMMAND) {
    // Called by the completion scripts with the words typed so far: never parsed as options.
    const program = buildProgram(session, { pluginsOnly: false, json: false });
    const candidates = completionCandidates(program, session, argv.slice(1), () =>
      buildProgram(session, { pluginsOnly: true, json: false }),
    );
    if (candidates.length > 0) session.out(candidates.join('\n'));
    return ExitCode.Success;
  }
  const parseScope: ParseScope = { ...scope, json: jsonRequested(argv) };
  const program = buildProgram(session, parseScope);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return session.exitCode;
  } catch (error) {
    if (!(error instanceof CommanderError)) return reportError(session, error, { json: parseScope.json });
    const exitCode = commanderExitCode(error);
    if (parseScope.json && exitCode === ExitCode.Usage && error.code !== 'commander.help') {
      printCommanderError(session, error);
    }
    return exitCode;
  }
}
