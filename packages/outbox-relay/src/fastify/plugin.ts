import type { FastifyContextConfig, FastifyPluginAsync, onRequestAsyncHookHandler } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { adminOf, connectOutbox, type AdminOptions } from "../admin/admin.ts";
import { adminRoutes } from "./admin-routes.ts";
import { bullBoard } from "./bull-board.ts";
import { answerRefusals } from "./errors.ts";
import { outboxPage } from "./outbox-page/index.ts";
import { refuseCrossSite } from "./same-origin.ts";

export interface OutboxAdminPluginOptions extends AdminOptions {
  /**
   * Runs first on every route the plugin adds (an async `onRequest` hook): it lets the service's
   * admins through and refuses anyone else (send a 401, or throw an error with a `statusCode`).
   * The routes change the outbox; there is no default.
   */
  authenticate: onRequestAsyncHookHandler;
  /** Merged into each of the plugin's routes' `config` (Bull Board's included), for an app that decides access from the matched route. */
  routeConfig?: FastifyContextConfig;
}

/**
 * How @fastify/swagger documents each of the plugin's routes (their `config.swaggerTransform`,
 * whatever the app's own transform): the zod schemas converted to JSON Schema; the pages and Bull
 * Board, which declare none, left out.
 */
export const documentRoute: typeof jsonSchemaTransform = (input) => (input.schema && !input.schema.hide ? jsonSchemaTransform(input) : { schema: { hide: true }, url: input.url });

/**
 * The outbox's admin tools in a Fastify app, for the service's catalog and queues: the outbox page
 * (/admin/outbox, its JSON under /admin/outbox/api), the admin API (/admin/api: stats, dead
 * events, replay) and Bull Board (/admin/queues), every route behind `authenticate`; a request that
 * changes state from another site's page is refused (403 CROSS_SITE_REQUEST). Register it
 * after @fastify/swagger to have its JSON routes in the app's OpenAPI document. Closes what it
 * opened (a pool from a connection string, Redis from a URL) when the app closes.
 */
export const outboxAdminPlugin: FastifyPluginAsync<OutboxAdminPluginOptions> = async (app, options) => {
  if (typeof options.authenticate !== "function") throw new TypeError("outbox-relay/fastify: `authenticate` (an onRequest hook that lets only admins through) is required");
  if (app.prefix !== "") throw new Error(`outbox-relay/fastify: register it without a prefix (here "${app.prefix}"): its pages link to /admin/…`);
  const { db, queues, close } = connectOutbox(options);
  app.addHook("onClose", close);
  app.addHook("onRoute", (route) => {
    route.config = { swaggerTransform: documentRoute, ...route.config, ...options.routeConfig };
  });
  app.addHook("onRequest", options.authenticate);
  app.addHook("onRequest", refuseCrossSite);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(answerRefusals);

  const context = { db, queues, admin: adminOf(db, queues, options) };
  await app.register(bullBoard, context);
  await app.register(adminRoutes, context);
  await app.register(outboxPage, context);
};
