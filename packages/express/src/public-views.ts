import type { PluginInfo, TaskErrorInfo, TaskRecord } from '@plugboard/core';

/** What a client reads about a plugin: metadata, status, reason and the JSON Schema of its arguments. */
export interface PluginView {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly icon: string | null;
  readonly category: string | null;
  readonly sortGroup: string | null;
  readonly sortOrder: number;
  readonly version: string | null;
  readonly permissions: readonly string[];
  readonly kind: PluginInfo['kind'];
  readonly context: PluginInfo['context'];
  readonly schedule: PluginInfo['schedule'];
  readonly status: PluginInfo['status'];
  readonly reason: string | null;
  readonly code: PluginInfo['code'];
  readonly schemas: { readonly args: Record<string, unknown> };
}

/** What a client reads about a task: the record without server-side internals such as stacks. */
export interface TaskView extends Omit<TaskRecord, 'user' | 'error'> {
  readonly user: { readonly id: string; readonly name: string | null };
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
