// The server side of the HTTP and SSE benchmarks, in its own process: `plugboard` mounts the router on a host
// with one plugin, `bare` answers the same route with Express and the same argument validation only.
// Prints `PORT <n>` when listening; stops on SIGTERM.
import express from 'express';

const mode = process.argv[2];
const { ActionPlugin, Task, Type, compileObjectValidator, createHost } = await import('@plugboard/core');

const Args = Type.Object({
  label: Type.String({ minLength: 1, maxLength: 40 }),
  count: Type.Integer({ minimum: 1, maximum: 100, default: 1 }),
  mode: Type.Union([Type.Literal('fast'), Type.Literal('full')], { default: 'fast' }),
});

class NoopTask extends Task {
  async run() {
    return null;
  }
}

class NoopPlugin extends ActionPlugin({ id: 'noop', name: 'No-op', args: Args, tasks: [NoopTask] }) {
  createTasks() {
    return [new NoopTask({})];
  }
}

const app = express();
let close = async () => {};
if (mode === 'plugboard') {
  const { plugboardRouter } = await import('@plugboard/express');
  const host = createHost({ plugins: { classes: [NoopPlugin] }, argv: [], env: false, concurrency: 4 });
  await host.start();
  const user = { id: 'bench', permissions: ['admin'] };
  const router = plugboardRouter(host, {
    getUser: () => user,
    isAdmin: () => true,
    eventBufferSize: 10_000,
  });
  app.use('/plugboard', router);
  close = async () => {
    router.close();
    await host.stop();
  };
} else {
  const validator = compileObjectValidator(Args);
  app.post('/plugboard/plugins/:id/execute', express.json(), (req, res) => {
    const result = validator.parse(req.body?.args);
    if (!result.ok) {
      res.status(400).json({ errors: result.errors });
      return;
    }
    res
      .status(202)
      .json({ tasks: [{ id: 'x', pluginId: req.params.id, state: 'queued', input: result.value }] });
  });
}

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', async () => {
  server.closeAllConnections?.();
  server.close();
  await close();
  process.exit(0);
});
