import { describe, expect, it } from 'vitest';
import { runCliProcess } from './run-fixture.js';

describe.concurrent('usage errors exit 2 and name the field', () => {
  it('an unknown plugin', async () => {
    const { code, stdout, stderr } = await runCliProcess(['nosuch', '--to', '3']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'error: No plugin or command is called `nosuch`. Run `fixture-cli plugins` to list the plugins. (PLUGBOARD_UNKNOWN_PLUGIN)',
    );
  });

  it('a background-task plugin named as a command points to `schedules trigger`', async () => {
    const { code, stderr } = await runCliProcess(['nightly']);
    expect(code).toBe(2);
    expect(stderr).toContain('Run it now with `fixture-cli schedules trigger nightly`');
  });

  it('an unknown flag, with a suggestion', async () => {
    const { code, stderr } = await runCliProcess(['deploy', '--versoin', '1']);
    expect(code).toBe(2);
    expect(stderr).toContain("error: unknown option '--versoin'");
    expect(stderr).toContain('Did you mean --version?');
  });

  it('a mistyped command, with the closest command suggested as for a flag', async () => {
    const [plugin, builtIn] = await Promise.all([
      runCliProcess(['cont', '--to', '3']),
      runCliProcess(['schedulse']),
    ]);
    expect(plugin.code).toBe(2);
    expect(plugin.stderr).toContain('error: No plugin or command is called `cont`.');
    expect(plugin.stderr).toContain('(Did you mean count?)');
    expect(builtIn.code).toBe(2);
    expect(builtIn.stderr).toContain('(Did you mean schedules?)');
  });

  it('a flag without its value', async () => {
    const { code, stderr } = await runCliProcess(['deploy', '--target']);
    expect(code).toBe(2);
    expect(stderr).toContain("error: option '--target <staging|production>' argument missing");
  });

  it('a missing required argument, reported by the host as over HTTP', async () => {
    const { code, stderr } = await runCliProcess(['deploy']);
    expect(code).toBe(2);
    expect(stderr).toContain(
      'error: Invalid arguments for plugin `deploy`: `/version` is required. (PLUGBOARD_INVALID_ARGUMENTS)',
    );
    expect(stderr).toContain('  --version: is required');
    expect(stderr).toContain('Run `fixture-cli deploy --help` for usage.');
  });

  it('a value of the wrong type', async () => {
    const { code, stderr } = await runCliProcess(['deploy', '--version', '1', '--replicas', 'many']);
    expect(code).toBe(2);
    expect(stderr).toContain('`/replicas` must be integer');
    expect(stderr).toContain('  --replicas: must be integer');
  });

  it('a value out of range', async () => {
    const { code, stderr } = await runCliProcess(['count', '--to', '0']);
    expect(code).toBe(2);
    expect(stderr).toContain('  --to: must be >= 1');
  });

  it('a value that is not one of the choices lists them', async () => {
    const { code, stderr } = await runCliProcess(['deploy', '--version', '1', '--target', 'moon']);
    expect(code).toBe(2);
    expect(stderr).toContain('  --target: must be one of the allowed values (choices: staging, production)');
  });

  it('a bad value from an env fallback is reported like a bad flag', async () => {
    const { code, stderr } = await runCliProcess(['deploy'], { DEPLOY_VERSION: '' });
    expect(code).toBe(2);
    expect(stderr).toContain('  --version: must not have fewer than 1 characters');
  });

  it('a context plugin without its context id, or with an unknown one', async () => {
    const [missing, unknown] = await Promise.all([
      runCliProcess(['tag-book', '--tag', 'x']),
      runCliProcess(['tag-book', 'b404', '--tag', 'x']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('(PLUGBOARD_CONTEXT_REQUIRED)');
    expect(missing.stderr).toContain('  <bookId> (or --book-id): is required');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No book has id `b404`. (PLUGBOARD_UNKNOWN_CONTEXT)');
    expect(unknown.stderr).toContain('  <bookId> (or --book-id): no book has this id');
  });

  it('too many positional arguments', async () => {
    const { code, stderr } = await runCliProcess(['count', 'extra']);
    expect(code).toBe(2);
    expect(stderr).toContain("error: too many arguments for 'count'");
  });

  it('with --json the host error is printed as JSON on stderr', async () => {
    const { code, stdout, stderr } = await runCliProcess(['deploy', '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toEqual({
      error: {
        code: 'PLUGBOARD_INVALID_ARGUMENTS',
        message: 'Invalid arguments for plugin `deploy`: `/version` is required.',
        details: { fields: [{ path: '/version', message: 'is required' }] },
      },
    });
  });

  it('with --json an unknown flag is printed as JSON on stderr, with the suggestion', async () => {
    const { code, stdout, stderr } = await runCliProcess(['deploy', '--versoin', '1', '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toEqual({
      error: {
        code: 'PLUGBOARD_INVALID_ARGUMENTS',
        message: "unknown option '--versoin' (Did you mean --version?)",
        details: { option: '--versoin', suggestions: ['--version'] },
      },
    });
  });

  it('with --json a flag without its value and an unknown command are printed as JSON too', async () => {
    const [missing, unknown] = await Promise.all([
      runCliProcess(['deploy', '--json', '--target']),
      runCliProcess(['cont', '--json']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr).error).toMatchObject({
      code: 'PLUGBOARD_INVALID_ARGUMENTS',
      message: "option '--target <staging|production>' argument missing",
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(JSON.parse(unknown.stderr).error).toMatchObject({
      code: 'PLUGBOARD_UNKNOWN_PLUGIN',
      details: { suggestions: ['count'] },
    });
  });
});
