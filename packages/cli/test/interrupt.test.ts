import { describe, expect, it } from 'vitest';
import { startCli } from './run-fixture.js';

describe.concurrent('Ctrl-C while a task runs', () => {
  it('SIGINT cancels the running task, waits for it to stop, reports it cancelled and exits 1 promptly', async () => {
    const cli = startCli(['sleep', '--seconds', '30']);
    await cli.waitFor('sleep/SleepTask running');
    await cli.waitFor('sleep/SleepTask info  sleeping');
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const { code, signal, stdout } = await cli.exited;
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(stdout).toContain('Cancelling 1 task; interrupt again to stop waiting.');
    expect(stdout).toMatch(/sleep\/SleepTask cancelled in/);
    expect(stdout).toContain('(PLUGBOARD_TASK_CANCELLED)');
  });

  it('with --json the task record says cancelled', async () => {
    const cli = startCli(['sleep', '--seconds', '30', '--json'], { FIXTURE_ANNOUNCE: '1' });
    await cli.waitFor('sleep task started');
    cli.child.kill('SIGINT');
    const { code, stdout } = await cli.exited;
    expect(code).toBe(1);
    const [task] = JSON.parse(stdout).tasks;
    expect(task).toMatchObject({
      pluginId: 'sleep',
      state: 'cancelled',
      error: { code: 'PLUGBOARD_TASK_CANCELLED' },
    });
    expect(task.finishedAt).toBeGreaterThan(0);
  });
});
