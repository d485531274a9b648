import { describe, expect, it } from 'vitest';
import { runCliProcess } from './run-fixture.js';

describe.concurrent('running a plugin', () => {
  it('a successful run prints the task as plain lines when stdout is not a terminal, and exits 0', async () => {
    const { code, stdout, stderr } = await runCliProcess(['count', '--to', '3']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Count queued \(task \w+\)$/);
    expect(lines).toContain('Count running');
    expect(lines).toEqual(expect.arrayContaining(['Count info  step 1', 'Count info  step 3']));
    expect(lines).toContain('Count 100% counted 3 of 3');
    expect(stdout).toMatch(/Count succeeded in \d+\.\d\d s\nCount result: \{"counted":3\}/);
    // No terminal: no progress bar and no colour escapes.
    expect(stdout).not.toContain('\u001b[');
  });

  it('a run whose task fails shows the task error and exits 1', async () => {
    const { code, stdout } = await runCliProcess(['explode']);
    expect(code).toBe(1);
    expect(stdout).toContain('Explode error the fuse was too short');
    expect(stdout).toContain('Explode failed');
    expect(stdout).toContain('Boom: the disk is full (PLUGBOARD_TASK_FAILED)');
  });

  it('--json prints the final task records as one JSON document and nothing else', async () => {
    const { code, stdout } = await runCliProcess(['count', '--to', '2', '--tasks', '2', '--json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { tasks: Array<Record<string, unknown>> };
    expect(parsed.tasks).toHaveLength(2);
    for (const task of parsed.tasks) {
      expect(task).toMatchObject({
        pluginId: 'count',
        taskType: 'count/CountTask',
        state: 'succeeded',
        progress: 100,
        result: { counted: 2 },
        input: { to: 2, label: 'step' },
        user: { id: 'cli:tester' },
      });
    }
  });

  it('--json of a failed run keeps the error code and message but not the stack', async () => {
    const { code, stdout } = await runCliProcess(['explode', '--json']);
    expect(code).toBe(1);
    const [task] = (JSON.parse(stdout) as { tasks: Array<{ state: string; error: Record<string, unknown> }> })
      .tasks;
    expect(task!.state).toBe('failed');
    expect(task!.error).toEqual({ code: 'PLUGBOARD_TASK_FAILED', message: 'Boom: the disk is full' });
  });

  it('flags of every kind reach the plugin typed: enum, boolean, integer and a repeated array', async () => {
    const { code, stdout } = await runCliProcess([
      'deploy',
      '--version',
      '2.1.0',
      '--target',
      'production',
      '--dry-run',
      '--replicas',
      '4',
      '--tags',
      'blue',
      '--tags',
      'green',
      '--json',
    ]);
    expect(code).toBe(0);
    const [task] = (JSON.parse(stdout) as { tasks: Array<{ result: unknown }> }).tasks;
    expect(task!.result).toEqual({
      version: '2.1.0',
      target: 'production',
      dryRun: true,
      replicas: 4,
      tags: ['blue', 'green'],
    });
  });

  it('flags left out get the schema defaults from the host, and --no-<flag> sets a boolean false', async () => {
    const { code, stdout } = await runCliProcess(['deploy', '--version', '1', '--no-dry-run', '--json']);
    expect(code).toBe(0);
    const [task] = (JSON.parse(stdout) as { tasks: Array<{ result: unknown }> }).tasks;
    expect(task!.result).toEqual({ version: '1', target: 'staging', dryRun: false, replicas: 2, tags: [] });
  });

  it('an environment variable named by the schema `env` keyword stands in for a missing flag; the flag wins', async () => {
    const [fromEnv, fromFlag] = await Promise.all([
      runCliProcess(['deploy', '--json'], { DEPLOY_VERSION: '9.9.9' }),
      runCliProcess(['deploy', '--version', '1.0.0', '--json'], { DEPLOY_VERSION: '9.9.9' }),
    ]);
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout).tasks[0].result.version).toBe('9.9.9');
    expect(fromFlag.code).toBe(0);
    expect(JSON.parse(fromFlag.stdout).tasks[0].result.version).toBe('1.0.0');
  });

  it('a context plugin runs on the object named by the positional argument or by --<idArgument>', async () => {
    const [positional, flag] = await Promise.all([
      runCliProcess(['tag-book', 'b1', '--tag', 'classic']),
      runCliProcess(['tag-book', '--book-id', 'b2', '--tag', 'whale', '--json']),
    ]);
    expect(positional.code).toBe(0);
    expect(positional.stdout).toContain('Tag a book info  tagged "Middlemarch" as classic');
    expect(flag.code).toBe(0);
    expect(JSON.parse(flag.stdout).tasks[0]).toMatchObject({
      contextId: 'b2',
      result: { title: 'Moby-Dick', tag: 'whale' },
    });
  });

  it('`run <plugin>` is the same as `<plugin>`', async () => {
    const { code, stdout } = await runCliProcess(['run', 'count', '--to', '1', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).tasks[0]).toMatchObject({ state: 'succeeded', result: { counted: 1 } });
  });

  it('several tasks of one run are numbered and summed up', async () => {
    const { code, stdout } = await runCliProcess(['count', '--to', '1', '--tasks', '2']);
    expect(code).toBe(0);
    expect(stdout).toContain('Count#1 succeeded');
    expect(stdout).toContain('Count#2 succeeded');
    expect(stdout).toContain('2 tasks: 2 succeeded');
  });
});
