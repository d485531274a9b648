#!/usr/bin/env node
// The demo: a host on the embedded defaults (in-process runtime, memory store) runs a plugin and shows its task live.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}packages/core/dist/index.js`)) {
  spawnSync('npx', ['tsup', '--silent'], { cwd: `${root}packages/core`, stdio: 'inherit' });
}
const { ActionPlugin, Task, Type, createHost } = await import('@plugboard/core');

class GreetTask extends Task {
  async run(ctx) {
    for (let i = 1; i <= this.input.times; i++) {
      ctx.signal.throwIfAborted();
      ctx.log.info(`Hello, ${this.input.name} (${i}/${this.input.times})`);
      ctx.progress((i / this.input.times) * 100);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { greeted: this.input.name };
  }
}

class GreetPlugin extends ActionPlugin({
  id: 'greet',
  name: 'Greet someone',
  args: Type.Object({ name: Type.String({ minLength: 1 }), times: Type.Integer({ minimum: 1, default: 1 }) }),
  properties: Type.Object({ greeting: Type.String({ default: 'Hello' }) }),
  tasks: [GreetTask],
}) {
  createTasks(args) {
    return new GreetTask({ name: `${this.properties.greeting}, ${args.name}`, times: args.times });
  }
}

const host = createHost({
  plugins: { classes: [GreetPlugin] },
  properties: { greet: { greeting: 'Hi' } },
  argv: [],
});
const report = await host.start();
for (const p of report.plugins) console.log(`plugin ${p.id}: ${p.status}`);
host.events.on('task:log', (e) => console.log(`  [${e.entry.level}] ${e.entry.message}`));
host.events.on('task:progress', (e) => console.log(`  progress ${Math.round(e.progress)}%`));
const { tasks } = await host.execute('greet', { name: 'Ada', times: 3 }, { user: { id: 'demo' } });
const record = await host.tasks.wait(tasks[0].id);
console.log(`task ${record.id}: ${record.state}`, record.result);
const bad = await host.execute('greet', { name: '' }).catch((error) => error);
console.log(`bad arguments are refused: ${bad.code}: ${bad.message}`);
await host.stop();
