import type { Command } from 'commander';

/**
 * Adds `run <plugin> [flags...]`: the same as `<plugin> [flags...]`, and the way to reach a plugin whose id
 * is also a built-in command's name. `runPlugin` parses the rest of the line with the plugin commands only.
 */
export function addRunCommand(program: Command, runPlugin: (argv: string[]) => Promise<void>): Command {
  return program
    .command('run')
    .description('Run a plugin: `run <plugin> --flag value` is the same as `<plugin> --flag value`')
    .argument('<plugin>', 'The plugin id')
    .argument('[flags...]', "The plugin's flags; `run <plugin> --help` lists them")
    .passThroughOptions()
    .action(async (plugin: string, flags: string[]) => {
      await runPlugin([plugin, ...flags]);
    });
}
