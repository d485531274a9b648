/** What the new plugin package is called and which Plugboard it is built against. */
export interface PluginSpec {
  /** The npm package name. */
  readonly packageName: string;
  /** The plugin id hosts know it by. */
  readonly id: string;
  /** The exported plugin class. */
  readonly className: string;
  /** The name people see. */
  readonly displayName: string;
  /** The version range of `@plugboard/core` and `@plugboard/testing`, e.g. `>=0.1.0 <1.0.0`. */
  readonly plugboardRange: string;
}

/**
 * The toolchain the new package is developed with. Kept in step with the versions this repository builds and
 * tests with; a test checks that the installed ones satisfy these ranges.
 */
export const TOOLCHAIN = {
  typescript: '^5.9.0',
  vitest: '^4.1.0',
  '@types/node': '^20.19.0',
} as const;

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function packageJson(spec: PluginSpec): string {
  return json({
    name: spec.packageName,
    version: '0.1.0',
    description: `${spec.displayName}: a Plugboard plugin.`,
    license: 'MIT',
    type: 'module',
    engines: { node: '>=20.19' },
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist'],
    // How a host started with `plugins: { packages: true }` finds the plugin among its dependencies.
    plugboard: { plugins: './dist/index.js' },
    keywords: ['plugboard', 'plugboard-plugin'],
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc --noEmit',
      test: 'vitest run',
      prepack: 'npm run build',
    },
    peerDependencies: { '@plugboard/core': spec.plugboardRange },
    // Sorted, as npm writes them.
    devDependencies: Object.fromEntries(
      Object.entries({
        '@plugboard/core': spec.plugboardRange,
        '@plugboard/testing': spec.plugboardRange,
        ...TOOLCHAIN,
      }).sort(([a], [b]) => a.localeCompare(b)),
    ),
  });
}

const TSCONFIG = json({
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    declaration: true,
    noEmit: true,
    types: ['node'],
  },
  include: ['src', 'test'],
});

const TSCONFIG_BUILD = json({
  extends: './tsconfig.json',
  compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist' },
  include: ['src'],
});

function pluginSource(spec: PluginSpec): string {
  return `import { ActionPlugin, Task, Type, type Static, type TaskContext } from '@plugboard/core';

/** What one task needs. Task input is plain JSON, so any process can rebuild the task from it. */
export interface CountWordsInput {
  text: string;
}

/** The work: counts the words of a text, logging what it does and reporting progress. */
export class CountWordsTask extends Task<CountWordsInput, { words: number }> {
  async run(ctx: TaskContext) {
    // Check the signal between steps, so cancelling (or a host shutting down) stops the task quickly.
    ctx.signal.throwIfAborted();
    const words = this.input.text.split(/\\s+/).filter(Boolean).length;
    ctx.log.info(\`Counted \${words} words\`);
    ctx.progress(100);
    return { words };
  }
}

/** The arguments a person fills in. The schema drives validation, forms, CLI flags and the HTTP API. */
const Args = Type.Object({
  text: Type.String({ minLength: 1, description: 'The text to count the words of' }),
});

/** What people see and trigger: validates the arguments and creates the tasks. */
export class ${spec.className} extends ActionPlugin({
  id: '${spec.id}',
  name: '${spec.displayName}',
  description: 'Counts the words of a text.',
  // Hosts outside this range report the plugin invalid instead of running it.
  hostVersion: '${spec.plugboardRange}',
  args: Args,
  tasks: [CountWordsTask],
}) {
  createTasks(args: Static<typeof Args>) {
    return new CountWordsTask({ text: args.text });
  }
}
`;
}

function pluginTest(spec: PluginSpec): string {
  return `import { runPlugin, runTask } from '@plugboard/testing';
import { describe, expect, it } from 'vitest';
import { ${spec.className}, CountWordsTask } from '../src/index.js';

describe('${spec.id}', () => {
  it('counts the words of a text', async () => {
    const { tasks } = await runPlugin(${spec.className}, { text: 'the quick brown fox' });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.state).toBe('succeeded');
    expect(tasks[0]?.result).toEqual({ words: 4 });
    expect(tasks[0]?.logs.map((line) => line.message)).toEqual(['Counted 4 words']);
  });

  it('refuses an empty text, naming the field', async () => {
    await expect(runPlugin(${spec.className}, { text: '' })).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_ARGUMENTS',
      details: { fields: [{ path: '/text' }] },
    });
  });

  it('runs the task on its own', async () => {
    const run = await runTask(CountWordsTask, { text: 'one two' });
    expect(run.result).toEqual({ words: 2 });
  });
});
`;
}

function readme(spec: PluginSpec): string {
  return `# ${spec.packageName}

${spec.displayName}: a [Plugboard](https://www.npmjs.com/package/@plugboard/core) plugin with the id
\`${spec.id}\`.

\`\`\`sh
npm install      # once
npm test         # runs test/plugin.test.ts with @plugboard/testing
npm run typecheck
npm run build    # compiles src/ to dist/
\`\`\`

- \`src/index.ts\` holds the plugin (\`${spec.className}\`: metadata, the argument schema and \`createTasks\`) and
  its task (\`CountWordsTask\`: the work, in \`run\`). Replace them with your own.
- \`test/plugin.test.ts\` runs the plugin on a real test host and checks each task's state, result and log.

## Using it in a host

Install the package in the host application. A host started with \`plugins: { packages: true }\` finds it among
its dependencies through the \`plugboard\` field of \`package.json\`:

\`\`\`ts
import { createHost } from '@plugboard/core';

const host = createHost({ plugins: { packages: true } });
await host.start();
const { tasks } = await host.execute('${spec.id}', { text: 'hello plugin world' });
\`\`\`

\`@plugboard/core\` is a peer dependency: the plugin uses the host's copy.
`;
}

const GITIGNORE = `node_modules/
dist/
*.tgz
`;

/** Every file of the new plugin package, by path relative to its folder. */
export function pluginFiles(spec: PluginSpec): Record<string, string> {
  return {
    'package.json': packageJson(spec),
    'tsconfig.json': TSCONFIG,
    'tsconfig.build.json': TSCONFIG_BUILD,
    '.gitignore': GITIGNORE,
    'README.md': readme(spec),
    'src/index.ts': pluginSource(spec),
    'test/plugin.test.ts': pluginTest(spec),
  };
}
