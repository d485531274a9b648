import type { PlugboardUser, PluginInfo } from '@plugboard/core';
import type { ResolvedRouterOptions } from './options.js';

/**
 * What one signed-in user may see: administrators everything; other users the plugins they may use and
 * only their own tasks. The HTTP routes and the event stream share this one rule.
 */
export class Audience<User extends PlugboardUser = PlugboardUser> {
  readonly user: User;
  readonly isAdmin: boolean;
  readonly #canSeePlugin: (user: User, plugin: PluginInfo) => boolean;

  constructor(user: User, options: Pick<ResolvedRouterOptions<User, unknown>, 'isAdmin' | 'canSeePlugin'>) {
    this.user = user;
    this.isAdmin = options.isAdmin(user) === true;
    this.#canSeePlugin = options.canSeePlugin;
  }

  /** True when the user may see (and try to run) the plugin. */
  seesPlugin(plugin: PluginInfo | undefined): boolean {
    if (plugin === undefined) return false;
    return this.isAdmin || this.#canSeePlugin(this.user, plugin) === true;
  }

  /** True when the user may see, follow and cancel tasks of the given user id. */
  seesTasksOf(userId: string): boolean {
    return this.isAdmin || userId === this.user.id;
  }
}
