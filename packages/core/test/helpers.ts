import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ActionPlugin,
  createHost,
  type Host,
  type HostOptions,
  type PluginClass,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { afterEach } from 'vitest';

const scratch = fileURLToPath(new URL('../../../.tmp/tests/', import.meta.url));

/**
 * Writes files into a fresh folder and returns its path. The folder is inside the repository so that modules
 * Node loads natively there resolve `@plugboard/core` the way an installed plugin would.
 */
export function tempDir(files: Record<string, string> = {}): string {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'plugboard-test-'));
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

/** A plugin module source that defines one working plugin with the given id. */
export function pluginModule(id: string, extra = ''): string {
  return `
import { ActionPlugin, Task, Type } from '@plugboard/core';
class ${id.replace(/\W/g, '_')}Task extends Task {
  async run() { return { ok: '${id}' }; }
}
export class P_${id.replace(/\W/g, '_')} extends ActionPlugin({ id: '${id}', name: '${id}', tasks: [${id.replace(/\W/g, '_')}Task] }) {
  createTasks() { return new ${id.replace(/\W/g, '_')}Task({}); }
  ${extra}
}
`;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A task that echoes its input after optional steps of progress. */
export class EchoTask extends Task<{ text: string; steps?: number }, { echoed: string }> {
  async run(ctx: TaskContext) {
    const steps = this.input.steps ?? 0;
    for (let i = 1; i <= steps; i++) ctx.progress((i / steps) * 100, `step ${i}`);
    ctx.log.info(`echo ${this.input.text}`);
    return { echoed: this.input.text };
  }
}

/** A task that waits until its signal aborts (or `ms` pass), then throws the abort reason. */
export class WaitTask extends Task<{ ms: number }> {
  async run(ctx: TaskContext) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return { waited: this.input.ms };
  }
}

const EchoArgs = Type.Object({
  text: Type.String({ minLength: 1, description: 'What to echo' }),
  steps: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  copies: Type.Integer({ minimum: 0, maximum: 50, default: 1 }),
});

/** A plugin that creates `copies` echo tasks. */
export class EchoPlugin extends ActionPlugin({
  id: 'echo',
  name: 'Echo',
  category: 'Tools',
  args: EchoArgs,
  tasks: [EchoTask],
}) {
  createTasks(args: { text: string; steps?: number; copies: number }) {
    return Array.from({ length: args.copies }, () => new EchoTask({ text: args.text, steps: args.steps }));
  }
}

/** A plugin whose tasks wait `ms` unless cancelled. */
export class WaitPlugin extends ActionPlugin({
  id: 'wait',
  name: 'Wait',
  args: Type.Object({ ms: Type.Integer({ minimum: 0 }) }),
  tasks: [WaitTask],
}) {
  createTasks(args: { ms: number }) {
    return new WaitTask({ ms: args.ms });
  }
}

/**
 * A plugin with free-form arguments that runs one task of `taskClass`, built from the arguments. `definition`
 * adds to the plugin's definition (a timeout, readiness...).
 */
export function single<I>(
  id: string,
  taskClass: new (input: I) => Task<I>,
  definition: { readonly timeoutMs?: number } = {},
): PluginClass {
  return class extends ActionPlugin({
    id,
    name: id,
    args: Type.Object({}, { additionalProperties: true }),
    tasks: [taskClass as never],
    ...definition,
  }) {
    createTasks(args: Record<string, unknown>) {
      return new taskClass(args as I);
    }
  };
}

/**
 * Returns `started(classes, options)`, which creates and starts a host with the given plugin classes (no
 * environment variables or argv read, every other option at its default unless given); every host it started is
 * stopped after each test, with `stopTimeoutMs` for running tasks.
 */
export function hostsStartedPerTest(stopTimeoutMs = 100) {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: stopTimeoutMs })));
  });
  return async function started(classes: readonly unknown[], options: HostOptions = {}): Promise<Host> {
    const host = createHost({
      env: false,
      argv: [],
      ...options,
      plugins: { ...options.plugins, classes: classes as PluginClass[] },
    });
    hosts.push(host);
    await host.start();
    return host;
  };
}
