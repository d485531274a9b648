import { describeThrown, PlugboardError } from '../errors.js';
import type { PlugboardUser } from '../task.js';
import type { PluginInfo } from './registry.js';

/** Decides whether a user may execute a plugin. */
export type AuthorizeHook<User extends PlugboardUser = PlugboardUser> = (
  user: User,
  plugin: PluginInfo,
) => boolean | Promise<boolean>;

/** The permissions `plugin` needs that `user` does not hold. */
export function missingPermissions(user: PlugboardUser, plugin: Pick<PluginInfo, 'permissions'>): string[] {
  const granted = new Set(user.permissions ?? []);
  return plugin.permissions.filter((permission) => !granted.has(permission));
}

/**
 * The one permission rule: the user holds every permission the plugin needs. The host's default `authorize` and
 * the HTTP router's default plugin visibility.
 */
export function holdsPermissions(user: PlugboardUser, plugin: Pick<PluginInfo, 'permissions'>): boolean {
  return missingPermissions(user, plugin).length === 0;
}

/** Asks `hook` whether `user` may execute the plugin; rejects with `PLUGBOARD_FORBIDDEN` when not, or when it throws. */
export async function authorizeExecution<User extends PlugboardUser>(
  hook: AuthorizeHook<User>,
  user: User,
  info: PluginInfo,
): Promise<void> {
  let allowed: boolean;
  try {
    allowed = await hook(user, info);
  } catch (error) {
    throw new PlugboardError(
      'PLUGBOARD_FORBIDDEN',
      `Authorisation of plugin \`${info.id}\` failed: ${describeThrown(error)}.`,
      { cause: error },
    );
  }
  if (!allowed) {
    const missing = missingPermissions(user, info);
    throw new PlugboardError(
      'PLUGBOARD_FORBIDDEN',
      missing.length > 0
        ? `User \`${user.id}\` may not execute plugin \`${info.id}\`: it needs the permission(s) ${missing.map((p) => `\`${p}\``).join(', ')}.`
        : `User \`${user.id}\` may not execute plugin \`${info.id}\`.`,
      { details: { missing } },
    );
  }
}
