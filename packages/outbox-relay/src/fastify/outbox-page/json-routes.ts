import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { orderEvents } from "@outbox/domain";
import { readEventState } from "outbox-relay/stats";
import { notFound } from "../errors.ts";
import { adminRefusals, answers } from "../responses.ts";
import { outboxPath } from "./layout.ts";
import type { OutboxPageOptions } from "./options.ts";
import { heldAggregates, holderOf, listEvents } from "./queries.ts";
import { eventJson, eventPageJson, eventToJson, heldJson, heldQuery, heldToJson, idParams, listQuery, summaryToJson } from "./schemas.ts";

/** How many events an event's page lists of those it caused. */
export const causedPageSize = 20;

/**
 * The outbox page's data as JSON, under /admin/outbox/api (the admin credentials, from the parent
 * plugin). Retry, skip and replay are the admin API's (/admin/api/dlq/…, /admin/api/replay).
 */
export async function outboxJsonRoutes(parent: FastifyInstance, { db }: OutboxPageOptions): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const tags = ["admin"];

  app.get(
    `${outboxPath}/api/events`,
    { config: { access: "admin" }, schema: { tags, summary: "Outbox events, newest first, filtered, in keyset pages (Postgres' rows)", querystring: listQuery, response: answers({ 200: eventPageJson }, [400, ...adminRefusals]) } },
    async (request) => {
      const { before, limit, ...filters } = request.query;
      const page = await listEvents(db, filters, { before, limit });
      return { events: page.events.map(summaryToJson), next: page.next };
    },
  );

  app.get(
    `${outboxPath}/api/events/:id`,
    { config: { access: "admin" }, schema: { tags, summary: "One outbox event: its row, payload, what holds it, the events it caused", params: idParams, response: answers({ 200: eventJson }, [400, 404, ...adminRefusals]) } },
    async (request) => {
      const { id } = request.params;
      const event = await readEventState(db, id, orderEvents.unorderedTypes);
      if (!event) throw notFound("event", id);
      const [holder, caused] = await Promise.all([holderOf(db, id), listEvents(db, { causedBy: id }, { limit: causedPageSize })]);
      return { event: eventToJson(event, holder), caused: { events: caused.events.map(summaryToJson), next: caused.next } };
    },
  );

  app.get(
    `${outboxPath}/api/held`,
    { config: { access: "admin" }, schema: { tags, summary: "Aggregates held back by a dead event, oldest first, with the event that holds each", querystring: heldQuery, response: answers({ 200: heldJson }, [400, ...adminRefusals]) } },
    async (request) => ({ aggregates: (await heldAggregates(db, request.query.limit)).map(heldToJson) }),
  );
}
