import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The example's folder; `start.mjs` in it is the entry `npm run demo` uses too. */
export const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A media server running as a child process, as a person would start it. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** The server's base address, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The monitor page's address, without the sign-in parameter. */
  readonly monitorUrl: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code once it has exited (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Starts `node start.mjs` with `env` added to this process's environment; resolves once it printed its URL. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['start.mjs'], {
    cwd: EXAMPLE_DIR,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const monitorUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the media server did not start in time:\n${output}`));
    }, 60_000);
    const check = () => {
      const match = /Monitor page: (http:\/\/127\.0\.0\.1:\d+\/plugboard\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(match[1]!);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the media server exited with ${code} before it started:\n${output}`));
    });
  });
  return {
    child,
    url: new URL(monitorUrl).origin,
    monitorUrl,
    output: () => output,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
