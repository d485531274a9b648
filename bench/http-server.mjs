// The server side of the HTTP and SSE benchmarks, in its own process: `plugboard` mounts the Express router on a
// host with one plugin, `bare` answers the same route with Express and the same argument validation only;
// `handler` serves @plugboard/http's handler on node:http, `bare-node` the same route on node:http alone, and
// `bare-web` the same route through the web platform's Request and Response on node:http (the HTTP floor).
// `GET /cpu` answers the process's CPU time so far, in microseconds.
// Prints `PORT <n>` when listening; stops on SIGTERM.
import http from 'node:http';
import { Readable } from 'node:stream';
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
let listener = app;

async function startHost() {
  const host = createHost({ plugins: { classes: [NoopPlugin] }, argv: [], env: false, concurrency: 4 });
  await host.start();
  return host;
}
const user = { id: 'bench', permissions: ['admin'] };
const options = { getUser: () => user, isAdmin: () => true, eventBufferSize: 10_000 };

function bareAnswer(id, body) {
  const result = validator.parse(body?.args);
  if (!result.ok) return { status: 400, body: { errors: result.errors } };
  return { status: 202, body: { tasks: [{ id: 'x', pluginId: id, state: 'queued', input: result.value }] } };
}
const validator = compileObjectValidator(Args);

if (mode === 'plugboard') {
  const { plugboardRouter } = await import('@plugboard/express');
  const host = await startHost();
  const router = plugboardRouter(host, options);
  app.use('/plugboard', router);
  close = async () => {
    router.close();
    await host.stop();
  };
} else if (mode === 'handler') {
  const { createHttpHandler, toNodeListener } = await import('@plugboard/http');
  const host = await startHost();
  const handler = createHttpHandler(host, { ...options, basePath: '/plugboard' });
  listener = toNodeListener(handler);
  close = async () => {
    handler.close();
    await host.stop();
  };
} else if (mode === 'bare-node') {
  const route = /^\/plugboard\/plugins\/([^/]+)\/execute$/;
  listener = (req, res) => {
    const match = route.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end();
      return;
    }
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const answer = bareAnswer(decodeURIComponent(match[1]), body);
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(answer.body));
    });
  };
} else if (mode === 'bare-web') {
  // The bare route as any handler on web-standard Request and Response is served on node:http, with nothing else: a
  // Request with the headers and the body as a stream, the JSON read from it, a Response built from the answer's
  // text, and its status, headers and text written back.
  const route = /^\/plugboard\/plugins\/([^/]+)\/execute$/;
  listener = (req, res) => {
    const headers = new Headers();
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Readable.toWeb(req),
      duplex: 'half',
    });
    // Resolves with the Response and the text it was built from, which is written as it is rather than read back
    // through the body's stream.
    const answer = async () => {
      const match = route.exec(new URL(request.url).pathname);
      if (request.method !== 'POST' || !match)
        return { response: new Response(null, { status: 404 }), text: '' };
      let body;
      try {
        body = await request.json();
      } catch {
        return { response: new Response(null, { status: 400 }), text: '' };
      }
      const { status, body: out } = bareAnswer(decodeURIComponent(match[1]), body);
      const text = JSON.stringify(out);
      const jsonHeaders = { 'content-type': 'application/json; charset=utf-8' };
      return { response: new Response(text, { status, headers: jsonHeaders }), text };
    };
    answer().then(({ response, text }) => {
      res.statusCode = response.status;
      for (const [name, value] of response.headers) res.setHeader(name, value);
      res.end(text);
    });
  };
} else {
  app.post('/plugboard/plugins/:id/execute', express.json(), (req, res) => {
    const answer = bareAnswer(req.params.id, req.body);
    res.status(answer.status).json(answer.body);
  });
}

const server = http.createServer((req, res) => {
  if (req.url === '/cpu') {
    const { user, system } = process.cpuUsage();
    res.end(String(user + system));
    return;
  }
  listener(req, res);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', async () => {
  server.closeAllConnections?.();
  server.close();
  await close();
  process.exit(0);
});
