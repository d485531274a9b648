// Compile-time checks, run by `tsc` in the test command: each @ts-expect-error must be an error.
import {
  ActionPlugin,
  BackgroundTaskPlugin,
  ContextPlugin,
  createHost,
  defineContextKind,
  definePluginPoint,
  type Static,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';

class EchoTask extends Task<{ text: string }, { echoed: string }> {
  async run(ctx: TaskContext) {
    ctx.log.info(this.input.text);
    return { echoed: this.input.text };
  }
}

const Args = Type.Object({ text: Type.String(), loud: Type.Optional(Type.Boolean()) });

export class Matching extends ActionPlugin({
  id: 'matching',
  name: 'Matching',
  args: Args,
  properties: Type.Object({ prefix: Type.String({ default: '>' }) }),
  tasks: [EchoTask],
}) {
  createTasks(args: Static<typeof Args>) {
    const prefix: string = this.properties.prefix;
    // @ts-expect-error properties are typed from the schema: there is no `suffix`
    this.properties.suffix;
    return new EchoTask({ text: `${prefix}${args.text}` });
  }
}

export class WrongParameter extends ActionPlugin({
  id: 'wrong',
  name: 'Wrong',
  args: Args,
  tasks: [EchoTask],
}) {
  // @ts-expect-error createTasks must accept the schema's type
  createTasks(args: { count: number }) {
    return new EchoTask({ text: String(args.count) });
  }
}

// @ts-expect-error a plugin class must implement createTasks
export class Missing extends ActionPlugin({ id: 'missing', name: 'Missing', args: Args }) {}

interface Book {
  readonly path: string;
}
const bookKind = defineContextKind<Book>({
  id: 'book',
  idArgument: 'bookId',
  resolve: () => ({ path: '/b' }),
});

export class OnBook extends ContextPlugin(bookKind, { id: 'on-book', name: 'On book', tasks: [EchoTask] }) {
  createTasks(_args: {}, book: Book) {
    return new EchoTask({ text: book.path });
  }
}

export class WrongTarget extends ContextPlugin(bookKind, {
  id: 'wrong-target',
  name: 'Wrong',
  tasks: [EchoTask],
}) {
  // @ts-expect-error the target is the context kind's object type
  createTasks(_args: {}, book: { size: number }) {
    return new EchoTask({ text: String(book.size) });
  }
}

export class Nightly extends BackgroundTaskPlugin({
  id: 'nightly',
  name: 'Nightly',
  repeatSeconds: 60,
  tasks: [EchoTask],
}) {
  createTasks() {
    return new EchoTask({ text: 'tick' });
  }
}

interface EventReporter {
  report(events: readonly string[]): string;
}
const EventReporting = definePluginPoint<EventReporter>({ id: 'event-reporting', methods: ['report'] });
// @ts-expect-error methods must be methods of the point's type
definePluginPoint<EventReporter>({ id: 'bad', methods: ['nope'] });

export async function hostUse() {
  const host = createHost({ plugins: { classes: [Matching] } });
  const reporters: EventReporter[] = host.points.get(EventReporting);
  const { tasks } = await host.execute('matching', { text: 'x' }, { user: { id: 'u' } });
  const state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed-out' | 'interrupted' =
    tasks[0]!.state;
  return { reporters, state };
}
