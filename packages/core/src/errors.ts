/** One entry of the error catalogue. */
export interface ErrorCatalogueEntry {
  /** The HTTP status the error maps to where it crosses HTTP. */
  readonly status: number;
  /** A short title naming what went wrong; each error's own message says what to do about it. */
  readonly title: string;
}

const catalogue = {
  PLUGBOARD_INVALID_OPTION: { status: 500, title: 'An option passed to Plugboard is invalid' },
  PLUGBOARD_HOST_NOT_STARTED: { status: 503, title: 'The host has not been started' },
  PLUGBOARD_HOST_ALREADY_STARTED: { status: 409, title: 'The host has already been started' },
  PLUGBOARD_HOST_STOPPING: { status: 503, title: 'The host is stopping and accepts no new work' },
  PLUGBOARD_UNKNOWN_PLUGIN: { status: 404, title: 'No plugin has this id' },
  PLUGBOARD_PLUGIN_NOT_OPERATIONAL: { status: 409, title: 'The plugin is not operational' },
  PLUGBOARD_INVALID_ARGUMENTS: { status: 400, title: 'The arguments do not match the plugin schema' },
  PLUGBOARD_UNAUTHENTICATED: { status: 401, title: 'No user is signed in' },
  PLUGBOARD_FORBIDDEN: { status: 403, title: 'The user may not do this' },
  PLUGBOARD_CONTEXT_REQUIRED: { status: 400, title: 'A context plugin was executed without a context id' },
  PLUGBOARD_UNKNOWN_CONTEXT: { status: 404, title: 'The context object was not found' },
  PLUGBOARD_CREATE_TASKS_FAILED: { status: 500, title: "The plugin's createTasks threw" },
  PLUGBOARD_INVALID_TASKS: { status: 500, title: 'createTasks returned something that is not a task' },
  PLUGBOARD_TOO_MANY_TASKS: { status: 500, title: 'createTasks returned more tasks than the host allows' },
  PLUGBOARD_UNKNOWN_TASK_TYPE: { status: 500, title: 'The task type is not registered by its plugin' },
  PLUGBOARD_TASK_INPUT_NOT_SERIALIZABLE: { status: 500, title: 'A task input is not JSON-serialisable' },
  PLUGBOARD_UNKNOWN_TASK: { status: 404, title: 'No task has this id' },
  PLUGBOARD_TASK_FINISHED: { status: 409, title: 'The task has already finished' },
  PLUGBOARD_TASK_FAILED: { status: 500, title: 'The task failed' },
  PLUGBOARD_TASK_TIMED_OUT: { status: 504, title: 'The task ran past its timeout' },
  PLUGBOARD_TASK_CANCELLED: { status: 409, title: 'The task was cancelled' },
  PLUGBOARD_TASK_INTERRUPTED: { status: 503, title: 'The host stopped while the task ran' },
  PLUGBOARD_UNKNOWN_SCHEDULE: { status: 404, title: 'No schedule has this id' },
  PLUGBOARD_SCHEDULE_RUNNING: { status: 409, title: 'The schedule already has a run in progress' },
  PLUGBOARD_INVALID_SCHEDULE: { status: 500, title: "A background plugin's schedule options are invalid" },
  PLUGBOARD_INVALID_IDEMPOTENCY_KEY: { status: 400, title: 'The idempotency key is not usable' },
  PLUGBOARD_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'The idempotency key was used for another request',
  },
  PLUGBOARD_IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    title: 'A request with this idempotency key is still being processed',
  },
  PLUGBOARD_PLUGIN_LOAD_FAILED: { status: 500, title: 'A plugin module could not be loaded' },
  PLUGBOARD_PLUGIN_LOAD_TIMEOUT: { status: 500, title: 'A plugin module did not finish loading in time' },
  PLUGBOARD_TS_LOADER_MISSING: {
    status: 500,
    title: 'A TypeScript plugin was found but jiti is not installed',
  },
  PLUGBOARD_PLUGIN_CONSTRUCT_FAILED: { status: 500, title: 'The plugin constructor threw' },
  PLUGBOARD_INVALID_PLUGIN: { status: 500, title: 'The plugin definition is invalid' },
  PLUGBOARD_INVALID_SCHEMA: { status: 500, title: 'A plugin schema is not a valid object schema' },
  PLUGBOARD_DUPLICATE_PLUGIN_ID: { status: 500, title: 'Two plugins use the same id' },
  PLUGBOARD_HOST_VERSION_MISMATCH: { status: 500, title: 'The plugin needs another version of Plugboard' },
  PLUGBOARD_INVALID_PROPERTIES: { status: 500, title: "The plugin's app properties are invalid" },
  PLUGBOARD_INVALID_FLAGS: { status: 500, title: "The plugin's command-line arguments are invalid" },
  PLUGBOARD_READINESS_FAILED: { status: 500, title: "The plugin's readiness check threw" },
  PLUGBOARD_READINESS_TIMEOUT: { status: 500, title: "The plugin's readiness check did not settle in time" },
  PLUGBOARD_NOT_READY: { status: 409, title: 'The plugin reported it is not ready' },
  PLUGBOARD_PLUGIN_DISABLED: { status: 409, title: 'An administrator disabled the plugin' },
  PLUGBOARD_MISSING_POINT_METHOD: {
    status: 500,
    title: 'The plugin does not implement a method its plugin point needs',
  },
  PLUGBOARD_STORE_UNAVAILABLE: { status: 503, title: 'The task store cannot be reached' },
  PLUGBOARD_STORE_NEWER_VERSION: {
    status: 503,
    title: 'The store was written by a newer version of Plugboard',
  },
  PLUGBOARD_PROCESS_EXIT_REFUSED: { status: 500, title: 'A task called process.exit' },
  PLUGBOARD_PLUGIN_NOT_RELOADABLE: {
    status: 409,
    title: 'The plugin or file cannot be reloaded while the host runs',
  },
  PLUGBOARD_TASK_RESOURCE_LIMIT: { status: 500, title: 'An isolated task passed its memory limit' },
  PLUGBOARD_TASK_WORKER_EXITED: { status: 500, title: "An isolated task's worker ended before the task did" },
  PLUGBOARD_TASK_UNCAUGHT_EXCEPTION: { status: 500, title: 'An isolated task threw outside run()' },
  PLUGBOARD_TASK_UNHANDLED_REJECTION: {
    status: 500,
    title: 'An isolated task left a promise rejected with no handler',
  },
  PLUGBOARD_TASK_ACCESS_DENIED: {
    status: 500,
    title: 'An isolated task touched something its plugin did not declare',
  },
  PLUGBOARD_ISOLATION_UNAVAILABLE: {
    status: 500,
    title: "The plugin's tasks cannot run in the isolation the host requires",
  },
  PLUGBOARD_SPAWN_UNAVAILABLE: { status: 500, title: 'The runtime cannot start child tasks' },
  PLUGBOARD_PARENT_STOPPED: {
    status: 409,
    title: 'The parent task was cancelled, timed out or interrupted',
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/**
 * Every stable error code Plugboard raises; `docs/reference/errors.md` says when each one happens.
 *
 * @useDeclaredType
 */
export type PlugboardErrorCode = keyof typeof catalogue;

/**
 * The one catalogue of errors a Plugboard user can meet. Codes are stable: a retired code is never reused.
 * `docs/reference/errors.md` lists the same codes; a test keeps the two in step.
 */
export const errorCatalogue: { readonly [Code in PlugboardErrorCode]: ErrorCatalogueEntry } = catalogue;

/** One field that failed validation, with a path such as `/times` and a reason a person can act on. */
export interface FieldError {
  /** A JSON Pointer to the field, such as `/times` or `/files/0`; `/` for the object as a whole. */
  readonly path: string;
  /** Why the value was refused. */
  readonly message: string;
}

/** Options accepted by {@link PlugboardError}. */
export interface PlugboardErrorOptions {
  /** The underlying error, kept for diagnosis. */
  readonly cause?: unknown;
  /** Structured details safe to show a client (for example the failing fields). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An error with a stable `PLUGBOARD_*` code, an HTTP status and its `cause` kept. */
export class PlugboardError extends Error {
  /** Always `'PlugboardError'`, so logs and `util.inspect` name the class. */
  override readonly name = 'PlugboardError';
  /** The stable code from the catalogue. */
  readonly code: PlugboardErrorCode;
  /** The HTTP status this error maps to where it crosses HTTP. */
  readonly status: number;
  /** Structured details safe to show a client. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: PlugboardErrorCode, message: string, options: PlugboardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = options.details ?? {};
  }

  /** A JSON form without the stack, fit to send to a client. */
  toJSON(): {
    /** The stable code from the catalogue. */
    code: PlugboardErrorCode;
    /** What went wrong and what to do about it. */
    message: string;
    /** Structured details safe to show a client. */
    details: Readonly<Record<string, unknown>>;
  } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * The reason a task's signal gives once its attempt is over, for work the task left running. It has no stack: it
 * says the task ended, not where, and capturing one costs several microseconds on every task that reads its signal.
 */
export function taskFinishedReason(): PlugboardError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new PlugboardError('PLUGBOARD_TASK_CANCELLED', 'The task has finished.');
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** True when `value` is a {@link PlugboardError}, optionally with the given code. */
export function isPlugboardError(value: unknown, code?: PlugboardErrorCode): value is PlugboardError {
  return value instanceof PlugboardError && (code === undefined || value.code === code);
}

/**
 * Describes any thrown value for a person, including values that are not `Error`s. Never throws, whatever the
 * value does when read (a getter or `toJSON` that throws, a revoked proxy).
 */
export function describeThrown(value: unknown): string {
  try {
    if (value instanceof Error) {
      const message: unknown = value.message;
      if (typeof message === 'string' && message.length > 0) return message;
      const name: unknown = value.name;
      return typeof name === 'string' && name.length > 0 ? name : 'Error';
    }
    if (typeof value === 'string') return value;
  } catch {
    return 'a thrown value that cannot be read';
  }
  try {
    return `non-Error value thrown: ${JSON.stringify(value) ?? String(value)}`;
  } catch {
    try {
      return `non-Error value thrown: ${String(value)}`;
    } catch {
      return 'a thrown value that cannot be read';
    }
  }
}

/** Formats a value for an option error: "`0` (number)". Long values are cut; never throws. */
export function describeValue(value: unknown): string {
  let shown: string;
  try {
    shown = typeof value === 'function' ? '[function]' : (JSON.stringify(value) ?? String(value));
  } catch {
    try {
      shown = String(value);
    } catch {
      shown = '[unreadable]';
    }
  }
  if (shown.length > 200) shown = `${shown.slice(0, 200)}…`;
  let type: string;
  try {
    type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  } catch {
    type = typeof value;
  }
  return `\`${shown}\` (${type})`;
}
