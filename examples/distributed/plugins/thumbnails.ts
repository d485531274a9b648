import { ActionPlugin, Task, type TaskContext, Type } from '@plugboard/core';

/** Stands in for I/O-bound work (fetching and resizing one image): it waits, reporting progress. */
export class ThumbnailTask extends Task<{ image: string; ms: number }> {
  static override retrySafe = true;
  async run(ctx: TaskContext) {
    ctx.status(`worker ${process.pid}`);
    const steps = 5;
    for (let step = 1; step <= steps; step++) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.input.ms / steps);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      });
      ctx.progress((step / steps) * 100, `${this.input.image}: step ${step} of ${steps}`);
    }
    ctx.log.info(`made a thumbnail of ${this.input.image}`);
    return { image: this.input.image, worker: process.pid };
  }
}

/** Makes one thumbnail task per image. */
export class ThumbnailsPlugin extends ActionPlugin({
  id: 'thumbnails',
  name: 'Make thumbnails',
  description: 'Creates a thumbnail of each image, spread over the workers.',
  args: Type.Object({
    images: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
    ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
  }),
  tasks: [ThumbnailTask],
}) {
  createTasks(args: { images: string[]; ms: number }) {
    return args.images.map((image) => new ThumbnailTask({ image, ms: args.ms }));
  }
}
