import type { FastifyInstance } from "fastify";
import { declareAccess } from "../auth/route-access.ts";
import { outboxHtmlRoutes } from "./html-routes.ts";
import { outboxJsonRoutes } from "./json-routes.ts";
import type { OutboxPageOptions } from "./options.ts";

export { bullBoardAdapterOptions, bullBoardUiConfig } from "./bull-board.ts";
export { outboxPath } from "./layout.ts";
export type { OutboxPageOptions } from "./options.ts";

/**
 * The outbox page at /admin/outbox (HTML) and its data at /admin/outbox/api (JSON), every route
 * the admin's (HTTP basic; cross-site posts refused, route-access.ts), next to Bull Board: Postgres' rows, where Bull Board
 * shows Redis' jobs.
 */
export async function outboxPage(app: FastifyInstance, options: OutboxPageOptions): Promise<void> {
  declareAccess(app, "admin");
  await app.register(outboxJsonRoutes, options);
  await app.register(outboxHtmlRoutes, options);
}
