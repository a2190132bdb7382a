import basicAuth from "@fastify/basic-auth";
import type { FastifyInstance } from "fastify";
import { isAdmin } from "../auth/admin-credentials.ts";
import { outboxHtmlRoutes } from "./html-routes.ts";
import { outboxJsonRoutes } from "./json-routes.ts";
import type { OutboxPageOptions } from "./options.ts";

export { bullBoardAdapterOptions, bullBoardUiConfig } from "./bull-board.ts";
export { outboxPath } from "./layout.ts";
export type { OutboxPageOptions } from "./options.ts";

/**
 * The outbox page at /admin/outbox (HTML) and its data at /admin/outbox/api (JSON), every route
 * behind the admin credentials (HTTP basic), next to Bull Board: Postgres' rows, where Bull Board
 * shows Redis' jobs.
 */
export async function outboxPage(app: FastifyInstance, options: OutboxPageOptions): Promise<void> {
  await app.register(basicAuth, {
    authenticate: { realm: "outbox admin" },
    validate: async (user, given) => {
      if (!isAdmin(options.admin, user, given)) throw new Error("wrong admin user or password");
    },
  });
  app.addHook("onRequest", app.basicAuth);
  await app.register(outboxJsonRoutes, options);
  await app.register(outboxHtmlRoutes, options);
}
