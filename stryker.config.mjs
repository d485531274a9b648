// Mutation testing: the files where a silent bug would hurt users most, each with the tests that must catch it.
// `npm run test:mutation` (scripts/mutation.mjs) runs Stryker once per target below and prints a score per file;
// `npm run test:mutation -- cli` runs only the targets whose name contains "cli". See docs/contributing.md.
//
// To change what is mutated, edit `targets`: `mutate` takes globs (or `file:startLine-endLine` for part of a
// file), `tests` the test files that run against those mutants. Keep `tests` to files that run in one process:
// a mutant is only active in the test process, so tests that run the code in a child process cannot kill it.

/** @type {Array<{ name: string, mutate: string[], tests: string[] }>} */
export const targets = [
  {
    name: 'core: task execution and end states',
    mutate: [
      'packages/core/src/runtime/task-execution.ts',
      'packages/core/src/runtime/attempt-context.ts',
      'packages/core/src/runtime/in-process-runtime.ts',
      'packages/core/src/runtime/task-life.ts',
    ],
    tests: [
      'packages/core/test/tasks.test.ts',
      'packages/core/test/in-process-runtime.test.ts',
      'packages/core/test/hostile-plugins.test.ts',
      // Options, stop and shutdown timeouts, stats, ends a failing store refused.
      'packages/core/test/lifecycle.test.ts',
      'packages/core/test/execute.test.ts',
      // One attempt through TaskExecution, and the rules of a task's life (SPI).
      'packages/core/test/task-attempt.test.ts',
      'packages/core/test/internals/task-life.test.ts',
      // The in-process queue: concurrency, counts, cancel while waiting, stop, ends a store refused, ctx parts.
      'packages/core/test/in-process-queue.test.ts',
      'packages/core/test/task-end-store-faults.test.ts',
      'packages/core/test/task-context.test.ts',
      'packages/core/test/task-context-parts.test.ts',
      'packages/core/test/plugin-limits.test.ts',
      'packages/core/test/in-process-runtime-spi.test.ts',
      'packages/core/test/retry-traces.test.ts',
      'packages/core/test/event-loop-turns.test.ts',
    ],
  },
  {
    name: 'core: argument validation',
    mutate: ['packages/core/src/schema.ts'],
    tests: [
      'packages/core/test/argument-validation.test.ts',
      'packages/core/test/internals/validator.test.ts',
      // Values handed in from code, defaults, failing fields; schemas a host publishes and refuses.
      'packages/core/test/internals/validator-values.test.ts',
      'packages/core/test/plugin-schemas.test.ts',
      'packages/core/test/execute.test.ts',
      // Schemas a plugin declares that cannot be used, refused at start.
      'packages/core/test/hostile-plugins.test.ts',
      'packages/core/test/lifecycle.test.ts',
    ],
  },
  {
    name: 'core: secret redaction',
    mutate: ['packages/core/src/secrets.ts'],
    tests: [
      'packages/core/test/secrets.test.ts',
      'packages/core/test/internals/secrets.test.ts',
      'packages/sqlite/test/secrets.test.ts',
    ],
  },
  {
    name: 'core: crash recovery',
    mutate: ['packages/core/src/runtime/crash-recovery.ts'],
    tests: [
      'packages/core/test/crash-recovery.test.ts',
      'packages/sqlite/test/crash-recovery.test.ts',
      'packages/sqlite/test/restart.test.ts',
    ],
  },
  {
    name: 'core: schedules',
    mutate: [
      'packages/core/src/schedules/background-schedules.ts',
      'packages/core/src/schedules/scheduler.ts',
    ],
    tests: [
      'packages/core/test/background.test.ts',
      'packages/core/test/runtime-schedules.test.ts',
      'packages/core/test/internals/timer-wheel.test.ts',
      'packages/sqlite/test/schedules.test.ts',
    ],
  },
  {
    name: 'express: authorisation and owner checks',
    mutate: ['packages/http/src/audience.ts', 'packages/http/src/options.ts'],
    tests: ['packages/express/test/authorization.test.ts', 'packages/express/test/options.test.ts'],
  },
  {
    name: 'cli: exit codes',
    mutate: ['packages/cli/src/exit-codes.ts'],
    tests: ['packages/cli/test/in-process.test.ts', 'packages/cli/test/internals/exit-codes.test.ts'],
  },
  {
    name: 'bullmq: worker cancel and retry',
    mutate: ['packages/bullmq/src/worker.ts'],
    tests: [
      'packages/bullmq/test/redis-keys.test.ts',
      'packages/bullmq/test/worker-shutdown.test.ts',
      'packages/bullmq/test/runtime-contract.test.ts',
      // Workers lost mid-task (behind a proxy the test freezes) and taken over by another in this process.
      'packages/bullmq/test/worker-takeover.test.ts',
      'packages/bullmq/test/worker-cancel-retry.test.ts',
      // Connections closed at stop, a start Redis refuses to record, BullMQ's own telemetry.
      'packages/bullmq/test/worker-redis.test.ts',
      'packages/bullmq/test/worker-bullmq-telemetry.test.ts',
      // Per-plugin limits (held-back tasks) and child tasks on workers.
      'packages/bullmq/test/flow-control.test.ts',
      // Option checks, and a Redis that cannot be reached or goes away.
      'packages/bullmq/test/options.test.ts',
      'packages/bullmq/test/connection.test.ts',
    ],
  },
];

/** Options shared by every target; `npx stryker run` alone mutates every target's files against all their tests. */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts', related: false },
  coverageAnalysis: 'perTest',
  // Mutants in module-level values (a constant Set of error codes...) are left out of the score: with `testFiles`
  // set, Stryker 9.6 and 10.0 activate them after the module has loaded, so they would all be reported as
  // survivors whatever the tests do (stryker-mutator/stryker-js#6144).
  ignoreStatic: true,
  mutate: targets.flatMap((t) => t.mutate),
  testFiles: [...new Set(targets.flatMap((t) => t.tests))],
  // Two cores: one test runner each.
  concurrency: 2,
  timeoutMS: 5_000,
  timeoutFactor: 2,
  ignorePatterns: ['docs', 'bench', 'examples', '.tmp', '**/dist', 'reports', '.vitest-results.json'],
  tempDirName: '.tmp/stryker',
  reporters: ['progress-append-only', 'clear-text', 'json'],
  jsonReporter: { fileName: '.tmp/mutation/report.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  thresholds: { high: 90, low: 85 },
  logLevel: 'info',
  fileLogLevel: 'off',
  cleanTempDir: true,
};
