import type { PluginInfo, TaskErrorInfo, TaskRecord } from '@plugboard/core';

/** What a client reads about a plugin: metadata, status, reason and the JSON Schema of its arguments. */
export interface PluginView
  extends Pick<
    PluginInfo,
    | 'id'
    | 'name'
    | 'description'
    | 'icon'
    | 'category'
    | 'sortGroup'
    | 'sortOrder'
    | 'version'
    | 'permissions'
    | 'kind'
    | 'context'
    | 'schedule'
    | 'status'
    | 'reason'
    | 'code'
  > {
  /** The JSON Schema of the plugin's arguments, to draw a form from; property and flag schemas stay on the server. */
  readonly schemas: {
    /** The arguments a person passes when executing the plugin. */
    readonly args: Record<string, unknown>;
  };
}

/** What a client reads about a task: the record without server-side internals such as stacks. */
export interface TaskView extends Omit<TaskRecord, 'user' | 'error'> {
  /** The executing user, reduced to what a client may see. */
  readonly user: {
    /** The user's id. */
    readonly id: string;
    /** The user's display name, if the host gave one. */
    readonly name: string | null;
  };
  /** Why the task did not succeed, without the server-side stack; `null` when it did. */
  readonly error: Omit<TaskErrorInfo, 'stack'> | null;
}

// Plugin sources (file paths on the server), timings and property schemas stay on the server.
/** The client view of a plugin. */
export function pluginView(info: PluginInfo): PluginView {
  return {
    id: info.id,
    name: info.name,
    description: info.description,
    icon: info.icon,
    category: info.category,
    sortGroup: info.sortGroup,
    sortOrder: info.sortOrder,
    version: info.version,
    permissions: info.permissions,
    kind: info.kind,
    context: info.context,
    schedule: info.schedule,
    status: info.status,
    reason: info.reason,
    code: info.code,
    schemas: { args: info.schemas.args },
  };
}

/** The client view of a task record: the user reduced to id and name, the error without its stack. */
export function taskView(record: TaskRecord): TaskView {
  const { user, error, ...rest } = record;
  return {
    ...rest,
    user: { id: user.id, name: user.name ?? null },
    error: error === null ? null : { code: error.code, message: error.message },
  };
}
