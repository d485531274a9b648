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

/** Why a plugin cannot run, in words for a person who cannot fix it: set-up details are for administrators. */
const VIEWER_REASONS: Partial<Record<PluginInfo['status'], string>> = {
  'not-ready': 'This plugin is not ready yet; an administrator has been told what it needs.',
  failed: 'This plugin could not start; an administrator can see why.',
  invalid: 'This plugin is installed incorrectly; an administrator can see why.',
  disabled: 'An administrator has turned this plugin off.',
  checking: 'This plugin is being checked; try again in a moment.',
};

/** A plugin's reason as a viewer reads it: set-up details (environment variables, paths) stay with administrators. */
export function viewerReason(status: PluginInfo['status'], reason: string | null): string | null {
  return reason === null ? null : (VIEWER_REASONS[status] ?? reason);
}

// Plugin sources (file paths on the server), timings and property schemas stay on the server.
/**
 * The client view of a plugin. With `admin: false` the reason it is not operational is said in words for a
 * viewer, without the administrator's set-up details (environment variables, paths).
 */
export function pluginView(info: PluginInfo, admin = true): PluginView {
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
    reason: admin ? info.reason : viewerReason(info.status, info.reason),
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
    error:
      error === null
        ? null
        : {
            code: error.code,
            message: error.message,
            ...(error.cancelledBy ? { cancelledBy: error.cancelledBy } : {}),
          },
  };
}
