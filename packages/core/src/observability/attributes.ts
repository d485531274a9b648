/**
 * The attribute names Plugboard's spans and metrics carry. `error.type` and `user.id` are the OpenTelemetry
 * semantic conventions' own; the rest have no convention and live under `plugboard.`.
 */
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_USER_ID = 'user.id';
export const ATTR_PLUGIN_ID = 'plugboard.plugin.id';
export const ATTR_TASK_ID = 'plugboard.task.id';
export const ATTR_TASK_TYPE = 'plugboard.task.type';
export const ATTR_TASK_ATTEMPT = 'plugboard.task.attempt';
export const ATTR_TASK_MAX_ATTEMPTS = 'plugboard.task.max_attempts';
export const ATTR_TASK_STATE = 'plugboard.task.state';
export const ATTR_TASK_COUNT = 'plugboard.execute.task_count';
export const ATTR_RETRY_DELAY_MS = 'plugboard.task.retry.delay_ms';
export const ATTR_RUNTIME = 'plugboard.runtime.name';
export const ATTR_SCHEDULE_ID = 'plugboard.schedule.id';
