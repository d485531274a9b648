/**
 * An Express 5 router over a host: the JSON API, a Server-Sent Events stream, an OpenAPI document drawn from
 * the plugins' schemas, and the monitor page.
 *
 * @module @plugboard/express
 */

/** The default plugin visibility: the user holds every permission the plugin needs (core's permission rule). */
export { holdsPermissions } from '@plugboard/core';
export type { OpenApiDocument, PluginView, Problem, ProblemCode, TaskView } from '@plugboard/http';
export {
  buildOpenApiDocument,
  httpErrorCatalogue,
  PROBLEM_MEDIA_TYPE,
  pluginView,
  taskView,
  toProblem,
} from '@plugboard/http';
export type { PlugboardRouter } from './express-router.js';
export { plugboardRouter } from './express-router.js';
export type { GetUser, PlugboardRouterOptions } from './router-options.js';
