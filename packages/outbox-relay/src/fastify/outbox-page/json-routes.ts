import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { readEventState } from "../../stats/index.ts";
import type { AdminContext } from "../context.ts";
import { eventNotFound } from "../errors.ts";
import { adminRefusals, answers } from "../schemas.ts";
import { outboxPath } from "./layout.ts";
import { heldAggregates, holderOf, listEvents } from "./queries.ts";
import { eventJson, eventPageJson, eventToJson, heldJson, heldQuery, heldToJson, idParams, listQuery, summaryToJson } from "./schemas.ts";

/** How many events an event's page lists of those it caused. */
export const causedPageSize = 20;

/**
 * The outbox page's data as JSON, under /admin/outbox/api. Retry, skip and replay are the admin
 * API's (/admin/api/dlq/…, /admin/api/replay).
 */
export async function outboxJsonRoutes(parent: FastifyInstance, { db }: AdminContext): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const tags = ["admin"];

  app.get(
    `${outboxPath}/api/events`,
    { schema: { tags, summary: "Outbox events, newest first, filtered, in keyset pages (Postgres' rows)", querystring: listQuery, response: answers({ 200: eventPageJson }, [400, ...adminRefusals]) } },
    async (request) => {
      const { before, limit, ...filters } = request.query;
      const page = await listEvents(db, filters, { before, limit });
      return { events: page.events.map(summaryToJson), next: page.next };
    },
  );

  app.get(
    `${outboxPath}/api/events/:id`,
    { schema: { tags, summary: "One outbox event: its row, payload, what holds it, the events it caused", params: idParams, response: answers({ 200: eventJson }, [400, 404, ...adminRefusals]) } },
    async (request) => {
      const { id } = request.params;
      const event = await readEventState(db, id);
      if (!event) throw eventNotFound(id);
      const [holder, caused] = await Promise.all([holderOf(db, id), listEvents(db, { causedBy: id }, { limit: causedPageSize })]);
      return { event: eventToJson(event, holder), caused: { events: caused.events.map(summaryToJson), next: caused.next } };
    },
  );

  app.get(
    `${outboxPath}/api/held`,
    { schema: { tags, summary: "Aggregates held back by a dead event, oldest first, with the event that holds each", querystring: heldQuery, response: answers({ 200: heldJson }, [400, ...adminRefusals]) } },
    async (request) => ({ aggregates: (await heldAggregates(db, request.query.limit)).map(heldToJson) }),
  );
}
