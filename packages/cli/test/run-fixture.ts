import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The fixture CLI host's bin script. */
export const fixtureBin = fileURLToPath(new URL('./fixtures/cli-host.mjs', import.meta.url));

/** What a finished CLI process left behind. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A CLI process still running, with its output so far. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the process exits. */
  exited: Promise<CliRun>;
}

function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  // Colour is decided per test.
  delete inherited.NO_COLOR;
  delete inherited.FORCE_COLOR;
  return { ...inherited, ...env };
}

/**
 * Starts the fixture CLI as a real process with no stdin; `processGroup` gives it a process group of its own, as a
 * terminal does, so a test can signal the group as Ctrl-C would.
 */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { processGroup?: boolean } = {},
): RunningCli {
  const child = spawn(process.execPath, [fixtureBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: baseEnv(env),
    detached: options.processGroup === true,
  });
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const w of watchers) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of watchers) w();
  });
  const exited = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor(text, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `Timed out waiting for ${JSON.stringify(text)}; stdout: ${stdout}; stderr: ${stderr}`,
              ),
            ),
          timeoutMs,
        );
        const check = () => {
          if (stdout.includes(text) || stderr.includes(text)) {
            clearTimeout(timer);
            resolve();
          }
        };
        watchers.push(check);
        check();
        exited.then(() => {
          if (!stdout.includes(text) && !stderr.includes(text)) {
            clearTimeout(timer);
            reject(new Error(`Exited before ${JSON.stringify(text)}; stdout: ${stdout}; stderr: ${stderr}`));
          }
        });
      });
    },
  };
}

/** Runs the fixture CLI to the end. */
export function runCliProcess(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return startCli(args, env).exited;
}
