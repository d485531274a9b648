// The page's files (src/ui/) are embedded in the code rather than read from beside it: a host bundled into one
// file has no `ui/` folder next to its `import.meta.url`.
import { MONITOR_FILES } from './monitor-assets.js';
import { textResponse } from './response-text.js';

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

/** The monitor page: `index.html` and its assets, served by the handler when `ui: true`. */
export class MonitorPage {
  readonly #assets = new Map(Object.entries(MONITOR_FILES));

  /**
   * Serves the page at `path` (the request's full path); a path without a trailing slash is redirected so
   * relative URLs resolve under the mount.
   */
  page(path: string): Response {
    if (!path.endsWith('/')) {
      return new Response(null, { status: 308, headers: { Location: `${path}/` } });
    }
    return this.#send('index.html', { 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
  }

  /** Serves `monitor.js` or `monitor.css`; `undefined` when the name is not one of them. */
  asset(name: string): Response | undefined {
    if (name === 'index.html' || !this.#assets.has(name)) return undefined;
    return this.#send(name, {});
  }

  #send(name: string, headers: Record<string, string>): Response {
    const asset = this.#assets.get(name)!;
    return textResponse(asset.body, 200, {
      'Content-Type': asset.type,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      ...headers,
    });
  }
}
