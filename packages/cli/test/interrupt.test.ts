import { describe, expect, it } from 'vitest';
import { startCli } from './run-fixture.js';

describe.concurrent('Ctrl-C while a task runs', () => {
  it('SIGINT cancels the running task, waits for it to stop, reports it cancelled and exits 1 promptly', async () => {
    const cli = startCli(['sleep', '--seconds', '30']);
    await cli.waitFor('Sleep running');
    await cli.waitFor('Sleep info  sleeping');
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const { code, signal, stdout } = await cli.exited;
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(stdout).toContain('Cancelling 1 task; interrupt again to stop waiting.');
    expect(stdout).toMatch(/Sleep cancelled in/);
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

  it('a task that ignores its signal keeps the CLI waiting; a second SIGINT stops the host and records it interrupted', async () => {
    const cli = startCli(['sleep', '--seconds', '30', '--ignore-signal']);
    let running = true;
    void cli.exited.then(() => {
      running = false;
    });
    await cli.waitFor('Sleep info  sleeping');
    cli.child.kill('SIGINT');
    await cli.waitFor('Cancelling 1 task; interrupt again to stop waiting.');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Still waiting for the task's code, which still runs: nothing is recorded yet.
    expect(running).toBe(true);
    expect(cli.stdout()).not.toMatch(/Sleep (cancelled|interrupted)/);
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const { code, signal, stdout } = await cli.exited;
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(stdout).toContain('Stopped waiting');
    expect(stdout).toMatch(/Sleep interrupted in/);
    expect(stdout).toContain('(PLUGBOARD_TASK_INTERRUPTED)');
    expect(stdout).not.toMatch(/Sleep cancelled/);
  });

  it('with --json a task abandoned by the second SIGINT is printed as interrupted', async () => {
    const cli = startCli(['sleep', '--seconds', '30', '--ignore-signal', '--json'], {
      FIXTURE_ANNOUNCE: '1',
    });
    await cli.waitFor('sleep task started');
    cli.child.kill('SIGINT');
    // Further apart than a forwarded copy of the first signal.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    cli.child.kill('SIGINT');
    const { code, stdout } = await cli.exited;
    expect(code).toBe(1);
    const [task] = JSON.parse(stdout).tasks;
    expect(task).toMatchObject({ state: 'interrupted', error: { code: 'PLUGBOARD_TASK_INTERRUPTED' } });
  });

  it('a task that stops late is waited for and then recorded cancelled', async () => {
    const cli = startCli(['sleep', '--seconds', '2', '--ignore-signal'], { FIXTURE_ANNOUNCE: '1' });
    await cli.waitFor('Sleep info  sleeping');
    cli.child.kill('SIGINT');
    const { code, stdout, stderr } = await cli.exited;
    expect(code).toBe(1);
    // The CLI exits after the task's code returned, not while it still ran.
    expect(stderr).toContain('sleep task returned');
    expect(stdout).toMatch(/Sleep cancelled in/);
    expect(stdout).toContain('(PLUGBOARD_TASK_CANCELLED)');
  });

  it("Ctrl-C under npm or npx counts once, though npm forwards the terminal's SIGINT to the CLI again", async () => {
    const cli = startCli(
      ['sleep', '--seconds', '3', '--ignore-signal'],
      { FIXTURE_ANNOUNCE: '1' },
      {
        processGroup: true,
      },
    );
    await cli.waitFor('Sleep info  sleeping');
    // The terminal signals the whole foreground group; npm then sends its child the same signal once more.
    process.kill(-cli.child.pid!, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    cli.child.kill('SIGINT');
    const { code, signal, stdout, stderr } = await cli.exited;
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(stdout).not.toContain('Stopped waiting');
    expect(stderr).toContain('sleep task returned');
    expect(stdout).toMatch(/Sleep cancelled in/);
  });

  it('a signal that comes once the tasks have stopped does not end the CLI before it exits with its code', async () => {
    const cli = startCli(['sleep', '--seconds', '30']);
    await cli.waitFor('Sleep info  sleeping');
    cli.child.kill('SIGINT');
    await cli.waitFor('Sleep cancelled in');
    // What npm forwards late, or a second press as the CLI shuts down.
    cli.child.kill('SIGINT');
    const { code, signal } = await cli.exited;
    expect(signal).toBeNull();
    expect(code).toBe(1);
  });

  it('Ctrl-C while the host starts runs nothing and exits 1 instead of ending by the signal', async () => {
    const cli = startCli(['count', '--to', '3'], { FIXTURE_READY_DELAY_MS: '1500' });
    await cli.waitFor('checking readiness');
    cli.child.kill('SIGINT');
    const { code, signal, stdout, stderr } = await cli.exited;
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(stdout).not.toContain('Count');
    expect(stderr).toContain('Interrupted while the host started; nothing was run.');
  });
});
