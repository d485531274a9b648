import type { PluginInfo } from '@plugboard/core';
import type { Command } from 'commander';
import type { CliSession } from '../cli-session.js';
import { formatTable } from '../table.js';

function paintStatus(session: CliSession<any>, status: PluginInfo['status']): string {
  return status === 'operational' ? session.palette.green(status) : session.palette.red(status);
}

/** Adds `plugins`: every plugin with its kind, status and reason, and the sources that failed to load. */
export function addPluginsCommand(program: Command, session: CliSession<any>): Command {
  return program
    .command('plugins')
    .description('List the plugins with their status and, when not operational, the reason')
    .option('--json', 'Print the plugins as JSON')
    .action((options: { json?: boolean }) => {
      const plugins = session.host.plugins.list();
      const failures = session.host.plugins.failures();
      if (options.json) {
        session.out(JSON.stringify({ plugins, failures }, null, 2));
        return;
      }
      if (plugins.length === 0) session.out('No plugins were found.');
      else {
        session.out(
          formatTable(
            ['id', 'name', 'kind', 'status', 'reason'],
            plugins.map((p) => [p.id, p.name, p.kind, paintStatus(session, p.status), p.reason ?? '']),
          ),
        );
      }
      if (failures.length > 0) {
        session.out('');
        session.out('Failed to load:');
        for (const f of failures) session.out(`  ${f.source.location}: ${f.reason} (${f.code})`);
      }
    });
}
