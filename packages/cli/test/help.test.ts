import { describe, expect, it } from 'vitest';
import { runCliProcess } from './run-fixture.js';

describe.concurrent('help', () => {
  it('top-level --help lists the operational plugins, the built-in commands, the not-operational plugins with their reason and the exit codes', async () => {
    const { code, stdout } = await runCliProcess(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: fixture-cli [options] [command]');
    expect(stdout).toContain('The Plugboard CLI test host.');
    expect(stdout).toMatch(
      /Plugins:\n(.*\n)*\s+count \[options\]\s+Counts to a number, logging every step\./,
    );
    expect(stdout).toMatch(/tag-book \[options\] \[bookId\]/);
    for (const command of ['plugins', 'tasks', 'schedules', 'run <plugin>'])
      expect(stdout).toContain(command);
    expect(stdout).toMatch(
      /Not operational \(running one exits 3\):\n\s+mailer\s+not-ready: SMTP_HOST is not set/,
    );
    expect(stdout).toContain('3  the plugin is not operational');
    // Background plugins are run by their schedule, not as sub-commands.
    expect(stdout).not.toMatch(/^\s+nightly/m);
  });

  it('a plugin --help shows a flag per argument with its type, choices, default, required mark, env fallback and description', async () => {
    const { code, stdout } = await runCliProcess(['deploy', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: fixture-cli deploy [options]');
    expect(stdout).toContain('Deploys a version of the app.');
    expect(stdout).toMatch(/--version <value>\s+The version to deploy \(required, env: DEPLOY_VERSION\)/);
    expect(stdout).toMatch(
      /--target <staging\|production>\s+Where to deploy \(choices: "staging", "production", default:\s+"staging"\)/,
    );
    expect(stdout).toMatch(/--dry-run\s+Only say what would happen \(default: false\)/);
    expect(stdout).toMatch(/--no-dry-run\s+Set `dryRun` to false/);
    expect(stdout).toMatch(/--replicas <integer>\s+How many replicas \(default: 2\)/);
    expect(stdout).toMatch(/--tags <value>\s+Tags for the release \(default: \[\], repeatable\)/);
    expect(stdout).toMatch(/--json\s+Print the final task records as JSON/);
  });

  it('a context plugin takes the context id as a positional argument or as --<idArgument>', async () => {
    const { code, stdout } = await runCliProcess(['help', 'tag-book']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: fixture-cli tag-book [options] [bookId]');
    expect(stdout).toMatch(/bookId\s+The id of the book to act on/);
    expect(stdout).toMatch(/--book-id <id>\s+The id of the book to act on \(instead of the argument\)/);
    expect(stdout).toMatch(/--tag <value>\s+The tag to add \(required\)/);
  });

  it('built-in commands and the run alias have their own --help', async () => {
    const [tasks, run, runPlugin] = await Promise.all([
      runCliProcess(['tasks', '--help']),
      runCliProcess(['run', '--help']),
      runCliProcess(['run', 'count', '--help']),
    ]);
    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toMatch(/--limit <n>\s+How many tasks to show, 1 to 500 \(default: "20"\)/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: fixture-cli run [options] <plugin> [flags...]');
    expect(runPlugin.code).toBe(0);
    expect(runPlugin.stdout).toMatch(/--to <integer>\s+How far to count \(default: 3\)/);
  });

  it('with no command it prints the help on stderr and exits 2', async () => {
    const { code, stderr } = await runCliProcess([]);
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: fixture-cli [options] [command]');
  });

  it('--version prints the version the host gave', async () => {
    const { code, stdout } = await runCliProcess(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('1.2.3');
  });
});
