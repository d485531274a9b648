// host.start() discovering 500 plugin files against a bare import() of the same 500 files. Each round runs in
// a fresh process, so neither side finds the modules already loaded.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, emit, ensureBuilt, row, scratch, size } from './lib.mjs';

const COUNT = size(500, 50);

function writePlugins(dir) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < COUNT; i++) {
    // Different shapes, as real folders have: arguments, properties, a readiness check, two task types.
    writeFileSync(
      join(dir, `plugin-${i}.mjs`),
      `import { ActionPlugin, Task, Type } from '@plugboard/core';
class ScanTask${i} extends Task { async run(ctx) { ctx.log.info('scan ${i}'); return { n: ${i} }; } }
class FixTask${i} extends Task { async run() { return null; } }
export class Plugin${i} extends ActionPlugin({
  id: 'plugin-${i}',
  name: 'Plugin ${i}',
  description: 'Scans folder ${i}',
  args: Type.Object({ path: Type.String({ default: '/media/${i}' }), fix: Type.Boolean({ default: false }) }),
  properties: Type.Object({ threshold: Type.Integer({ minimum: 0, default: ${i} }) }),
  tasks: [ScanTask${i}, FixTask${i}],
}) {
  checkReadiness() { return { ready: true }; }
  createTasks(args) { return args.fix ? [new FixTask${i}({})] : [new ScanTask${i}({})]; }
}
`,
    );
  }
}

const child = fileURLToPath(new URL('./discovery-child.mjs', import.meta.url));

function timeInChild(mode, dir) {
  const result = spawnSync(process.execPath, [child, mode, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`discovery child (${mode}) failed:\n${result.stderr}`);
  const { ms, plugins } = JSON.parse(result.stdout.trim().split('\n').at(-1));
  if (plugins !== COUNT) throw new Error(`expected ${COUNT} plugins, the ${mode} child saw ${plugins}`);
  return ms;
}

ensureBuilt('core');
const dir = join(scratch('discovery'), 'plugins');
writePlugins(dir);
const r = await compare({
  rounds: size(5, 1),
  warmup: 1,
  candidate: () => timeInChild('host', dir),
  baseline: () => timeInChild('import', dir),
});
rmSync(join(dir, '..'), { recursive: true, force: true });
emit([
  row({
    figure: `discovery: host.start() with ${COUNT} plugin files`,
    value: r.candidate,
    unit: 'ms',
    baseline: 'bare import()',
    baselineValue: r.baseline,
    ratio: r.candidate / r.baseline,
    target: { max: 1.5 },
    notes:
      'each round in a fresh process; the host also validates, checks readiness and builds the catalogue',
  }),
]);
