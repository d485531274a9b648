/**
 * The demo's two users and how a request says who it is. A real server would use its own sign-in here; the
 * router only needs `getUser(req)` and `isAdmin(user)`.
 */
import type { PlugboardUser } from '@plugboard/core';
import type { NextFunction, Request, Response } from 'express';

/** Reading the library: storage reports, checksums, catalogue exports. */
export const READ_MEDIA = 'media:read';
/** Changing the library: imports, integrity fixes, cover rebuilds. */
export const WRITE_MEDIA = 'media:write';
/** Administering the server: every task, disabling plugins, running schedules now. */
export const ADMINISTER = 'admin';

/** The demo users: `alice` administers the library, `bob` may only look. */
export const DEMO_USERS: Readonly<Record<string, PlugboardUser>> = {
  alice: { id: 'alice', name: 'Alice', permissions: [ADMINISTER, READ_MEDIA, WRITE_MEDIA] },
  bob: { id: 'bob', name: 'Bob', permissions: [READ_MEDIA] },
};

/** The header API clients name their user with. */
export const USER_HEADER = 'x-media-user';
/** The cookie the browser carries its user in (the monitor page and its event stream rely on it). */
export const USER_COOKIE = 'media_user';
/** The query parameter that signs a browser in: `/plugboard/?as=bob`. */
export const SIGN_IN_PARAMETER = 'as';

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function knownUser(id: string | undefined): PlugboardUser | undefined {
  return id !== undefined && Object.hasOwn(DEMO_USERS, id) ? DEMO_USERS[id] : undefined;
}

/** The user of a request: the `x-media-user` header first, then the `media_user` cookie. */
export function userOf(req: Request): PlugboardUser | undefined {
  return knownUser(req.get(USER_HEADER) ?? cookieValue(req, USER_COOKIE));
}

/** Administrators hold the `admin` permission. */
export function isAdministrator(user: PlugboardUser): boolean {
  return user.permissions?.includes(ADMINISTER) ?? false;
}

/**
 * Signs a browser in as a demo user: a GET with `?as=<user>` sets the cookie and redirects to the same address
 * without the parameter, so links like `/plugboard/?as=bob` open the monitor page as Bob.
 */
export function signInFromQuery(req: Request, res: Response, next: NextFunction): void {
  const url = new URL(req.originalUrl, 'http://localhost');
  const requested = url.searchParams.get(SIGN_IN_PARAMETER);
  if (req.method !== 'GET' || requested === null) {
    next();
    return;
  }
  const user = knownUser(requested);
  if (!user) {
    res
      .status(400)
      .type('text/plain')
      .send(`Unknown user \`${requested}\`: use one of ${Object.keys(DEMO_USERS).join(', ')}.`);
    return;
  }
  url.searchParams.delete(SIGN_IN_PARAMETER);
  res.cookie(USER_COOKIE, user.id, { httpOnly: true, sameSite: 'lax', path: '/' });
  res.redirect(303, `${url.pathname}${url.search}`);
}
