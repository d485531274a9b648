import type {
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  Observable,
  ObservableUpDownCounter,
} from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';
import type { EventEmitter } from 'eventemitter3';
import type { HostEvents } from '../events.js';
import type { TaskRuntime } from '../runtime/runtime.js';
import type { TaskRecord } from '../task.js';
import { PLUGBOARD_VERSION } from '../version.js';
import { ATTR_ERROR_TYPE, ATTR_PLUGIN_ID, ATTR_RUNTIME, ATTR_TASK_STATE } from './attributes.js';
import { INSTRUMENTATION_SCOPE } from './task-tracing.js';

/** Bucket boundaries of the duration histogram, in seconds: from a quick task to an hour-long one. */
const DURATION_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * The host's metrics, recorded in the process that owns the host (with BullMQ, the API process, which learns of
 * every task's end):
 *
 * - `plugboard.tasks.finished` (counter, `{task}`): tasks that reached a final state, by plugin and state;
 * - `plugboard.task.duration` (histogram, `s`): how long the final attempt of each finished task ran;
 * - `plugboard.tasks.queued` and `plugboard.tasks.running` (observable up-down counters, `{task}`): the runtime's
 *   queue depth and running tasks, read when the SDK collects.
 */
export class TaskMetrics {
  readonly #meter: Meter;
  readonly #finished: Counter;
  readonly #duration: Histogram;
  readonly #queued: ObservableUpDownCounter;
  readonly #running: ObservableUpDownCounter;
  readonly #observe: BatchObservableCallback;
  readonly #events: EventEmitter<HostEvents>;
  readonly #onFinished = (record: TaskRecord) => this.#record(record);

  constructor(provider: MeterProvider | undefined, events: EventEmitter<HostEvents>, runtime: TaskRuntime) {
    // Asked for when the host starts, not on import: the API has no proxy for meters as it has for tracers.
    const meter = (provider ?? metrics).getMeter(INSTRUMENTATION_SCOPE, PLUGBOARD_VERSION);
    this.#meter = meter;
    this.#events = events;
    this.#finished = meter.createCounter('plugboard.tasks.finished', {
      description: 'Tasks that reached a final state.',
      unit: '{task}',
    });
    this.#duration = meter.createHistogram('plugboard.task.duration', {
      description: 'How long the final attempt of a finished task ran.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.#queued = meter.createObservableUpDownCounter('plugboard.tasks.queued', {
      description: 'Tasks waiting for the runtime to run them.',
      unit: '{task}',
    });
    this.#running = meter.createObservableUpDownCounter('plugboard.tasks.running', {
      description: 'Tasks running now.',
      unit: '{task}',
    });
    const attributes = { [ATTR_RUNTIME]: runtime.name };
    this.#observe = (result) => {
      const stats = runtime.stats();
      result.observe(this.#queued, stats.queued, attributes);
      result.observe(this.#running, stats.running, attributes);
    };
    meter.addBatchObservableCallback(this.#observe, [this.#queued, this.#running] as Observable[]);
    events.on('task:finished', this.#onFinished);
  }

  /** Stops recording: the host stopped, and a later collection must not read its runtime. */
  close(): void {
    this.#events.off('task:finished', this.#onFinished);
    this.#meter.removeBatchObservableCallback(this.#observe, [this.#queued, this.#running] as Observable[]);
  }

  #record(record: TaskRecord): void {
    const attributes =
      record.error !== null && record.state !== 'succeeded'
        ? {
            [ATTR_PLUGIN_ID]: record.pluginId,
            [ATTR_TASK_STATE]: record.state,
            [ATTR_ERROR_TYPE]: record.error.code,
          }
        : { [ATTR_PLUGIN_ID]: record.pluginId, [ATTR_TASK_STATE]: record.state };
    this.#finished.add(1, attributes);
    if (record.startedAt !== null && record.finishedAt !== null) {
      this.#duration.record(Math.max(0, record.finishedAt - record.startedAt) / 1000, attributes);
    }
  }
}
