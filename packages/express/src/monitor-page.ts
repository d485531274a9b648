import { readFileSync } from 'node:fs';
import type { Request, Response } from 'express';

/** One file of the monitor page, read once. */
interface MonitorAsset {
  readonly type: string;
  readonly body: string;
}

// The page ships as plain files next to the code: `src/ui/` when run from source, `dist/ui/` once built
// (tsup copies the folder), so the host needs no build step of its own.
const UI_FOLDER = new URL('./ui/', import.meta.url);

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'monitor.js': 'text/javascript; charset=utf-8',
  'monitor.css': 'text/css; charset=utf-8',
} as const;

// The page loads only its own script and style, and talks only to its own origin.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

/** The monitor page: `index.html` and its assets, served by the router when `ui: true`. */
export class MonitorPage {
  readonly #assets = new Map<string, MonitorAsset>();

  /** Reads the page's files; throws when they are missing from the installed package. */
  constructor() {
    for (const [name, type] of Object.entries(FILES)) {
      this.#assets.set(name, { type, body: readFileSync(new URL(name, UI_FOLDER), 'utf8') });
    }
  }

  /** Serves the page; a path without a trailing slash is redirected so relative URLs resolve under the mount. */
  page(req: Request, res: Response): void {
    const path = req.originalUrl.split('?')[0] ?? '';
    if (!path.endsWith('/')) {
      res.redirect(308, `${path}/`);
      return;
    }
    this.#send(res, 'index.html', { 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
  }

  /** Serves `monitor.js` or `monitor.css`; `false` when the name is not one of them. */
  asset(name: string, res: Response): boolean {
    if (name === 'index.html' || !this.#assets.has(name)) return false;
    this.#send(res, name, {});
    return true;
  }

  #send(res: Response, name: string, headers: Record<string, string>): void {
    const asset = this.#assets.get(name)!;
    res
      .status(200)
      .set({
        'Content-Type': asset.type,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        ...headers,
      })
      .send(asset.body);
  }
}
