import { describe, expect, it } from 'vitest';
import { runCliProcess } from './run-fixture.js';

const ESC = '\u001b[';

describe.concurrent('colour', () => {
  it('FORCE_COLOR paints states and log levels even off a terminal', async () => {
    const { code, stdout } = await runCliProcess(['explode'], { FORCE_COLOR: '1' });
    expect(code).toBe(1);
    expect(stdout).toContain(`Explode ${ESC}31mfailed${ESC}39m`);
  });

  it('NO_COLOR turns colour off, even when FORCE_COLOR asks for it', async () => {
    const [run, usage] = await Promise.all([
      runCliProcess(['explode'], { NO_COLOR: '1', FORCE_COLOR: '1' }),
      runCliProcess(['deploy'], { NO_COLOR: '1', FORCE_COLOR: '1' }),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Explode failed');
    expect(run.stdout).not.toContain(ESC);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error: Invalid arguments for plugin `deploy`');
    expect(usage.stderr).not.toContain(ESC);
  });
});
