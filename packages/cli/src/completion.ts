import type { Command, Option } from 'commander';
import type { CliSession } from './cli-session.js';

/** The shells `completion <shell>` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;

/** One of {@link COMPLETION_SHELLS}. */
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** The hidden command the completion scripts call with the words typed so far, the last one being completed. */
export const COMPLETE_COMMAND = '__complete';

const TASK_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed-out', 'interrupted'];

/** The allowed values of plugin flags drawn from an enum, for completion. */
export const FLAG_CHOICES = new WeakMap<Option, readonly string[]>();

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

function valuesOf(option: Option, session: CliSession<any>): readonly string[] {
  const choices = FLAG_CHOICES.get(option) ?? option.argChoices;
  if (choices) return choices;
  if (option.long === '--plugin') return session.host.plugins.list().map((p) => p.id);
  if (option.long === '--state') return TASK_STATES;
  return [];
}

/**
 * What may follow the words typed so far (`words` without the program name; its last entry is the word being
 * completed, possibly empty): commands and plugins, the flags of the command named, the values of an enum flag,
 * the shells of `completion` and the schedules of `schedules trigger`.
 */
export function completionCandidates(
  program: Command,
  session: CliSession<any>,
  words: readonly string[],
  pluginsOnly: () => Command,
): string[] {
  const current = words.at(-1) ?? '';
  let command = program;
  let pending: Option | undefined;
  for (const word of words.slice(0, -1)) {
    if (pending) {
      pending = undefined;
      continue;
    }
    if (word.startsWith('-')) {
      const option = command.options.find((o) => o.long === word || o.short === word);
      if (option && takesValue(option)) pending = option;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    // `run <plugin>` parses the rest with a program of plugin commands only.
    if (sub) command = command === program && word === 'run' ? pluginsOnly() : sub;
  }
  let candidates: readonly string[];
  if (pending) candidates = valuesOf(pending, session);
  else if (current.startsWith('-')) {
    candidates = [...command.options.flatMap((o) => (o.long ? [o.long] : [])), '--help'];
  } else if (command.name() === 'completion') candidates = COMPLETION_SHELLS;
  else if (command.name() === 'trigger') {
    candidates = session.host.plugins
      .list()
      .filter((p) => p.kind === 'background')
      .map((p) => p.id);
  } else {
    candidates = command.commands
      .map((c) => c.name())
      .filter((name) => name !== COMPLETE_COMMAND && name !== 'help');
  }
  return [...new Set(candidates)].filter((c) => c.startsWith(current)).sort();
}

/** The script that makes `shell` complete `name`'s commands, plugins, flags and enum values. */
export function completionScript(shell: CompletionShell, name: string): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  switch (shell) {
    case 'bash':
      return [
        `# bash completion for ${name}: add \`source <(${name} completion bash)\` to ~/.bashrc`,
        `${fn}() {`,
        `  local IFS=$'\\n'`,
        `  COMPREPLY=($(${name} ${COMPLETE_COMMAND} "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))`,
        '}',
        `complete -o default -F ${fn} ${name}`,
        '',
      ].join('\n');
    case 'zsh':
      return [
        `#compdef ${name}`,
        `# zsh completion for ${name}: add \`source <(${name} completion zsh)\` to ~/.zshrc (after compinit)`,
        `${fn}() {`,
        '  local -a candidates',
        `  candidates=("\${(@f)$(${name} ${COMPLETE_COMMAND} "\${(@)words[2,CURRENT]}" 2>/dev/null)}")`,
        '  compadd -a candidates',
        '}',
        `compdef ${fn} ${name}`,
        '',
      ].join('\n');
    case 'fish':
      return [
        `# fish completion for ${name}: \`${name} completion fish > ~/.config/fish/completions/${name}.fish\``,
        `complete -c ${name} -f -a '(${name} ${COMPLETE_COMMAND} (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'`,
        '',
      ].join('\n');
  }
}
