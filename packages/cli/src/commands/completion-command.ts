import { Argument, type Command } from 'commander';
import type { CliSession } from '../cli-session.js';
import { COMPLETION_SHELLS, type CompletionShell, completionScript } from '../completion.js';

/** Adds `completion <shell>`: prints the script that makes bash, zsh or fish complete this program. */
export function addCompletionCommand(program: Command, session: CliSession<any>): Command {
  return program
    .command('completion')
    .description('Print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(COMPLETION_SHELLS))
    .action((shell: CompletionShell) => {
      session.out(completionScript(shell, session.name).trimEnd());
    });
}
