import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux } from '../../../test/requirements.js';
import { fixtureBin } from './run-fixture.js';

const tmux = hasTmux('packages/cli/test/completion-tty.test.ts');
const sessions: string[] = [];

afterEach(() => {
  for (const name of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', name]);
});

/** A bash in a detached tmux terminal with `fixture-cli` on its PATH, as an installed CLI would be. */
function bashInTerminal() {
  const bin = mkdtempSync(join(tmpdir(), 'plugboard-cli-bin-'));
  const wrapper = join(bin, 'fixture-cli');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${fixtureBin}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const name = `plugboard-completion-${process.pid}-${sessions.length}-${Date.now()}`;
  sessions.push(name);
  execFileSync('tmux', [
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    '160',
    '-y',
    '40',
    `env -u NO_COLOR -u FORCE_COLOR PATH='${bin}':"$PATH" PS1='$ ' bash --norc --noprofile`,
  ]);
  const pane = () => execFileSync('tmux', ['capture-pane', '-p', '-t', name], { encoding: 'utf8' });
  const keys = (...list: string[]) => execFileSync('tmux', ['send-keys', '-t', name, '--', ...list]);
  const waitFor = async (pattern: RegExp, timeoutMs = 90_000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (pattern.test(pane())) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`The terminal never showed ${pattern}:\n${pane()}`);
  };
  return { pane, keys, waitFor };
}

describe.skipIf(!tmux)('in a real shell', () => {
  it('bash completes commands, plugin flags and enum values from the completion script', async () => {
    const term = bashInTerminal();
    term.keys('source <(fixture-cli completion bash) && echo loaded', 'Enter');
    await term.waitFor(/^loaded$/m);
    term.keys('fixture-cli depl', 'Tab');
    await term.waitFor(/\$ fixture-cli deploy$/m);
    term.keys('--tar', 'Tab');
    await term.waitFor(/\$ fixture-cli deploy --target$/m);
    term.keys('prod', 'Tab');
    await term.waitFor(/\$ fixture-cli deploy --target production$/m);
    term.keys('C-u', 'fixture-cli schedules trig', 'Tab');
    await term.waitFor(/\$ fixture-cli schedules trigger$/m);
  }, 240_000);

  it('`schedules` draws a table naming the plugin, its cadence in words and its next run', async () => {
    const term = bashInTerminal();
    term.keys('fixture-cli schedules; echo "exit=$?"', 'Enter');
    await term.waitFor(/^exit=\d+$/m);
    const screen = term.pane();
    expect(screen).toContain('exit=0');
    expect(screen).toMatch(/ID\s+PLUGIN\s+RUNS\s+NEXT RUN\s+LAST RUN\s+LAST STATE\s+TIMES RUN/);
    expect(screen).toMatch(
      /nightly\s+Nightly clean-up\s+(once|every \w+)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+-\s+-\s+0/,
    );
  }, 240_000);
});
