import type { FastifyPluginCallback } from "fastify";
import type { PrismaClient } from "@outbox/db";
import { notFound } from "../errors.ts";
import { idParams } from "../schemas.ts";
import { isUuid, parseRequest } from "../validation.ts";

export const eventRoutes: FastifyPluginCallback<{ prisma: PrismaClient }> = (app, { prisma }, done) => {
  /** An outbox event's current state: where it is in the pipeline, its attempts and last error. */
  app.get("/api/events/:id", async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const event = isUuid(id) ? await prisma.eventOutbox.findUnique({ where: { id } }) : null;
    if (!event) throw notFound("event", id);
    const handled = await prisma.eventInbox.findUnique({ where: { eventId: id }, select: { handledAt: true } });
    return {
      id: event.id,
      type: event.eventType,
      status: event.status,
      attempts: event.attempts,
      lastError: event.lastError,
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      tenantId: event.tenantId,
      causationId: event.causationId,
      payload: event.payload,
      availableAt: event.availableAt,
      createdAt: event.createdAt,
      dispatchedAt: event.dispatchedAt,
      processedAt: event.processedAt,
      handledAt: handled?.handledAt ?? null,
    };
  });
  done();
};
