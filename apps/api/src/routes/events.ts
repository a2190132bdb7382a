import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import type { Database } from "outbox-relay";
import { readEventState } from "outbox-relay/admin";
import { mayRead } from "../auth/access.ts";
import { notFound } from "../errors.ts";
import { answers, apiRefusals, eventState } from "../responses.ts";
import { idParams } from "../schemas.ts";
import { isUuid } from "../validation.ts";

export const eventRoutes: FastifyPluginCallbackZod<{ db: Database }> = (app, { db }, done) => {
  /**
   * An outbox event's current state: where it is in the pipeline (pending → dispatched →
   * processed, or dead, skipped), its attempts and last error. `handledAt` is when its
   * `processed` mark committed (the mark is the exactly-once record; there is no inbox). Only the
   * event's tenant (or the admin) sees it: another tenant's, or one of no tenant, answers 404.
   */
  app.get(
    "/api/events/:id",
    {
      config: { access: "tenant" },
      schema: {
        summary: "Read an outbox event's state",
        description: "Where the event is in the pipeline (pending → dispatched → processed, or dead, skipped), its attempts and last error. Another tenant's event answers 404.",
        params: idParams,
        response: answers({ 200: eventState }, [400, 404, ...apiRefusals]),
      },
    },
    async (request) => {
      const { id } = request.params;
      const event = isUuid(id) ? await readEventState(db, id) : undefined;
      if (!event || !mayRead(request, event.tenantId)) throw notFound("event", id);
      return { ...event, status: event.status as "pending", handledAt: event.status === "processed" ? event.processedAt : null };
    },
  );
  done();
};
