import type { FastifyInstance } from "fastify";
import type { AdminContext } from "../context.ts";
import { outboxHtmlRoutes } from "./html-routes.ts";
import { outboxJsonRoutes } from "./json-routes.ts";

export { boardPath, outboxPath } from "./layout.ts";

/**
 * The outbox page at /admin/outbox (HTML) and its data at /admin/outbox/api (JSON), next to Bull
 * Board: Postgres' rows, where Bull Board shows Redis' jobs.
 */
export async function outboxPage(app: FastifyInstance, context: AdminContext): Promise<void> {
  await app.register(outboxJsonRoutes, context);
  await app.register(outboxHtmlRoutes, context);
}
