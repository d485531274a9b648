/**
 * Plugboard's HTTP API as one web-standard `Request -> Response` handler: the JSON API, a Server-Sent Events
 * stream, an OpenAPI document drawn from the plugins' schemas, and the monitor page. Hono, Bun, Deno and
 * Next.js route handlers mount it as is; `node:http` through `toNodeListener`, Express through
 * `@plugboard/express`.
 *
 * @module @plugboard/http
 */

/** The default plugin visibility: the user holds every permission the plugin needs (core's permission rule). */
export { holdsPermissions } from '@plugboard/core';
export type { NodeListener } from './node.js';
export { sendWebResponse, toNodeListener, toWebRequest } from './node.js';
export type { OpenApiDocument } from './openapi.js';
export { buildOpenApiDocument } from './openapi.js';
export type { GetUser, HttpHandlerOptions } from './options.js';
export type { Problem, ProblemCode } from './problem.js';
export { httpErrorCatalogue, PROBLEM_MEDIA_TYPE, toProblem } from './problem.js';
export type { PluginView, TaskView } from './public-views.js';
export { pluginView, taskView } from './public-views.js';
export type { HttpHandler, HttpMount } from './router.js';
export { createHttpHandler } from './router.js';
