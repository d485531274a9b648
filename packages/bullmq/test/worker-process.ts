import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));

/** A worker running in its own process. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Sends `signal` and waits (bounded) for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts the fixture worker with the given `createWorker` options and waits until it takes tasks. */
export async function startWorkerProcess(options: Record<string, unknown>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [fixture], {
    env: { ...process.env, PLUGBOARD_TEST_WORKER: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the worker did not start within 60 s:\n${output}`)),
      60_000,
    );
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited with code ${code} before it was ready:\n${output}`));
    });
  }).catch(async (error) => {
    await kill('SIGKILL');
    throw error;
  });
  return { child, pid: child.pid!, kill };
}
