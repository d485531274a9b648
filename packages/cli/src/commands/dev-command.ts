import { isAbsolute, relative } from 'node:path';
import { PlugboardError, type PluginInfo, type PluginReload } from '@plugboard/core';
import type { Command } from 'commander';
import type { CliSession } from '../cli-session.js';
import { reportError } from '../error-report.js';
import { ExitCode } from '../exit-codes.js';

/** A path as a person at this terminal reads it: relative to the working folder when it is inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function clock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function statusLine(session: CliSession<any>, info: PluginInfo): string {
  const { palette } = session;
  const status = info.status === 'operational' ? palette.green(info.status) : palette.red(info.status);
  return `${info.id} ${status}${info.reason ? `: ${info.reason}` : ''}`;
}

/** Prints one reload: what changed on stdout, what failed on stderr. */
function printReload(session: CliSession<any>, reload: PluginReload): void {
  const { palette } = session;
  const prefix = `${palette.dim(clock(reload.at))} ${shown(reload.source.location)}:`;
  const changes = [
    ...reload.reloaded.map((id) => `reloaded ${id}`),
    ...reload.added.map((id) => `added ${id}`),
    ...reload.removed.map((id) => `removed ${id}`),
  ];
  if (changes.length > 0 || reload.outcome === 'reloaded') {
    const what = changes.length > 0 ? changes.join(', ') : 'reloaded (it exports no plugin)';
    session.out(`${prefix} ${what} ${palette.dim(`(${Math.round(reload.durationMs)} ms)`)}`);
  }
  for (const id of [...reload.reloaded, ...reload.added]) {
    const info = session.host.plugins.get(id);
    if (info && info.status !== 'operational') session.out(`  ${statusLine(session, info)}`);
  }
  if (reload.outcome === 'failed') {
    const kept =
      reload.kept.length > 0 ? `; the previous version of ${reload.kept.join(', ')} keeps running` : '';
    // One write, so the reasons never arrive apart from the line they belong to.
    session.err(
      [
        `${prefix} ${palette.red('reload failed')}${kept}`,
        ...reload.problems.map((p) => `  ${p.reason}${palette.dim(` (${p.code})`)}`),
      ].join('\n'),
    );
  }
}

/**
 * Adds `dev`: watches the host's plugin folders, reloads a plugin whose module changes and prints a line per
 * reload, until Ctrl-C (SIGINT, SIGTERM) or the `signal` option; then exits 0.
 */
export function addDevCommand(program: Command, session: CliSession<any>): Command {
  return program
    .command('dev')
    .description('Watch the plugin folders and reload a plugin when its files change, until Ctrl-C')
    .option('--json', 'Print each reload as one line of JSON')
    .action(async (options: { json?: boolean }) => {
      const { host } = session;
      const json = options.json === true;
      // What goes wrong outside a reload (a folder that cannot be watched, a schedule that fails) is shown too.
      const onError = (error: Error) => {
        session.err(`${session.palette.red('error:')} ${error.message}`);
      };
      host.events.on('error', onError);
      let folders: readonly string[];
      try {
        folders = host.plugins.watch();
      } catch (error) {
        host.events.off('error', onError);
        session.exitCode = reportError(session, error, { json });
        return;
      }
      if (folders.length === 0) {
        host.events.off('error', onError);
        const error = new PlugboardError(
          'PLUGBOARD_INVALID_OPTION',
          'There is no plugin folder to watch: give the host `plugins.dirs` with folders that exist.',
        );
        session.exitCode = reportError(session, error, { json });
        return;
      }
      const onReload = (reload: PluginReload) => {
        if (json) session.out(JSON.stringify(reload));
        else printReload(session, reload);
      };
      host.events.on('plugin:reloaded', onReload);
      if (!json) {
        for (const failure of host.plugins.failures()) {
          session.err(
            `${shown(failure.source.location)}: ${failure.reason}${session.palette.dim(` (${failure.code})`)}`,
          );
        }
        // One write: a reader waiting for the last line has the plugin list too.
        session.out(
          [
            ...host.plugins.list().map((info) => `  ${statusLine(session, info)}`),
            `Watching ${folders.map(shown).join(', ')} for changes; press Ctrl-C to stop.`,
          ].join('\n'),
        );
      }
      await untilInterrupted(session);
      host.events.off('plugin:reloaded', onReload);
      host.events.off('error', onError);
      host.plugins.unwatch();
      if (!json) session.out('Stopped watching.');
      session.exitCode = ExitCode.Success;
    });
}

/** Resolves on SIGINT or SIGTERM (when the CLI handles signals) or when the `signal` option aborts. */
function untilInterrupted(session: CliSession<any>): Promise<void> {
  const { interrupts } = session;
  return new Promise((resolve) => {
    if (interrupts.count > 0) {
      resolve();
      return;
    }
    // The watcher does not keep the process alive by itself; this does, until the interrupt.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = interrupts.subscribe(() => {
      clearInterval(keepAlive);
      stop();
      resolve();
    });
  });
}
