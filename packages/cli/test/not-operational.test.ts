import { describe, expect, it } from 'vitest';
import { runCliProcess } from './run-fixture.js';

describe.concurrent('a plugin that is not operational', () => {
  it('exits 3 with the status and the reason the host gave, whatever flags it was given', async () => {
    const { code, stdout, stderr } = await runCliProcess(['mailer', '--to', 'someone']);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'error: Plugin `mailer` is not-ready: SMTP_HOST is not set: set it to the address of the mail server. (PLUGBOARD_PLUGIN_NOT_OPERATIONAL)',
    );
  });

  it('exits 3 through `run` too, and prints a JSON error with --json', async () => {
    const { code, stdout, stderr } = await runCliProcess(['run', 'mailer', '--json']);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr).error).toMatchObject({
      code: 'PLUGBOARD_PLUGIN_NOT_OPERATIONAL',
      details: { status: 'not-ready' },
    });
  });

  it('`plugins` shows it in the table with its status and reason', async () => {
    const { code, stdout } = await runCliProcess(['plugins']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ID\s+NAME\s+KIND\s+STATUS\s+REASON$/m);
    expect(stdout).toMatch(/^count\s+Count\s+action\s+operational$/m);
    expect(stdout).toMatch(
      /^mailer\s+Send mail\s+action\s+not-ready\s+SMTP_HOST is not set: set it to the address of the mail server\.$/m,
    );
    expect(stdout).toMatch(/^nightly\s+Nightly clean-up\s+background\s+operational$/m);
  });
});
