/**
 * An Express 5 router over a host: the JSON API, a Server-Sent Events stream, an OpenAPI document drawn from
 * the plugins' schemas, and the monitor page.
 *
 * @module @plugboard/express
 */

/** The default plugin visibility: the user holds every permission the plugin needs (core's permission rule). */
export { holdsPermissions } from '@plugboard/core';
export type { OpenApiDocument } from './openapi.js';
export { buildOpenApiDocument } from './openapi.js';
export type { GetUser, PlugboardRouterOptions } from './options.js';
export type { Problem, ProblemCode } from './problem.js';
export { httpErrorCatalogue, PROBLEM_MEDIA_TYPE, toProblem } from './problem.js';
export type { PluginView, TaskView } from './public-views.js';
export { pluginView, taskView } from './public-views.js';
export type { PlugboardRouter } from './router.js';
export { plugboardRouter } from './router.js';
