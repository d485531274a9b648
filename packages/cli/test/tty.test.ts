import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux } from '../../../test/requirements.js';
import { fixtureBin } from './run-fixture.js';

const tmux = hasTmux('packages/cli/test/tty.test.ts');
const sessions: string[] = [];

afterEach(() => {
  for (const name of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', name]);
});

/** Runs the fixture CLI in a detached tmux terminal; the exit code is written to a file when it ends. */
function inTerminal(args: string, env = '') {
  const name = `plugboard-cli-${process.pid}-${sessions.length}-${Date.now()}`;
  const exitFile = join(mkdtempSync(join(tmpdir(), 'plugboard-cli-tty-')), 'exit');
  sessions.push(name);
  const command = `env -u NO_COLOR -u FORCE_COLOR ${env} '${process.execPath}' '${fixtureBin}' ${args}; echo $? > '${exitFile}'; sleep 60`;
  execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', '140', '-y', '40', command]);
  const pane = () => execFileSync('tmux', ['capture-pane', '-p', '-e', '-t', name], { encoding: 'utf8' });
  const exitCode = async (timeoutMs = 15_000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      try {
        const text = readFileSync(exitFile, 'utf8').trim();
        if (text) return Number(text);
      } catch {
        // not finished yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`The CLI did not exit in time; the terminal shows:\n${pane()}`);
  };
  const waitFor = async (text: string, timeoutMs = 15_000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (pane().includes(text)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`The terminal never showed ${JSON.stringify(text)}:\n${pane()}`);
  };
  return { name, pane, exitCode, waitFor };
}

describe.skipIf(!tmux)('on a terminal', () => {
  it('draws a progress bar per task with log lines above them, then the results, in colour', async () => {
    const term = inTerminal('count --to 20 --tasks 2');
    expect(await term.exitCode()).toBe(0);
    const screen = term.pane();
    expect(screen).toMatch(/Count#1 \u2588{24} 100% \S*succeeded/);
    expect(screen).toMatch(/Count#2 \u2588{24} 100% \S*succeeded/);
    expect(screen).toContain('Count#1 info  step 20');
    expect(screen).toContain('Count#2 result: {"counted":20}');
    expect(screen).toContain('\u001b[32msucceeded');
    // Log lines erase what the bars drew before them.
    expect(screen).not.toMatch(/step \d+\s*\u2588/);
  });

  it('with NO_COLOR the bars are drawn without colour', async () => {
    const term = inTerminal('explode', 'NO_COLOR=1');
    expect(await term.exitCode()).toBe(1);
    const screen = term.pane();
    expect(screen).toMatch(/Explode \u2588{12}\u2591{12}\s+50% failed/);
    expect(screen).toContain('Boom: the disk is full (PLUGBOARD_TASK_FAILED)');
    expect(screen).not.toMatch(new RegExp(`${String.fromCharCode(27)}\\[3\\dm`));
  });

  it('Ctrl-C cancels the running task and the CLI exits 1', async () => {
    const term = inTerminal('sleep --seconds 30');
    await term.waitFor('Sleep info  sleeping');
    const sent = Date.now();
    execFileSync('tmux', ['send-keys', '-t', term.name, 'C-c']);
    expect(await term.exitCode()).toBe(1);
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(term.pane()).toContain('Cancelling 1 task; interrupt again to stop waiting.');
    expect(term.pane()).toMatch(/Sleep \S*\s+\d+% \S*cancelled/);
  });
});
