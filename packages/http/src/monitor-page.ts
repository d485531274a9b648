import type { Request, Response } from 'express';
// The page's files (src/ui/) are embedded in the code rather than read from beside it: a host bundled into one
// file has no `ui/` folder next to its `import.meta.url`.
import { MONITOR_FILES } from './monitor-assets.js';

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
  readonly #assets = new Map(Object.entries(MONITOR_FILES));

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
