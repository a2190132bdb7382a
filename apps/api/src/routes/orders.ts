import type { FastifyPluginCallback } from "fastify";
import type { PrismaClient } from "@outbox/db";
import type { Database } from "@outbox/sql";
import { requireBodyTenant, tenantScope } from "../auth/access.ts";
import { notFound } from "../errors.ts";
import { cancelOrder } from "../orders/cancel-order.ts";
import { createOrder } from "../orders/create-order.ts";
import { orderView } from "../orders/order-view.ts";
import { cancelOrderBody, createOrderBody, idempotencyKeyHeader, idParams } from "../schemas.ts";
import { isUuid, parseRequest } from "../validation.ts";

export const orderRoutes: FastifyPluginCallback<{ prisma: PrismaClient; db: Database }> = (app, { prisma, db }, done) => {
  app.post("/api/orders", async (request, reply) => {
    const headers = parseRequest(idempotencyKeyHeader, request.headers, "headers");
    const body = parseRequest(createOrderBody, request.body);
    requireBodyTenant(request, body.tenantId);
    const answer = await createOrder(db, body, headers["idempotency-key"]);
    if (answer.replayed) void reply.header("idempotent-replayed", "true");
    return reply.status(answer.status).send(answer.body);
  });

  /** The order with its items, payments and refunds; another tenant's order answers 404. */
  app.get("/api/orders/:id", async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const scope = tenantScope(request);
    const order = isUuid(id)
      ? await prisma.order.findFirst({
          where: { id, ...(scope ? { tenantId: scope } : {}) },
          include: { items: true, payments: { orderBy: { createdAt: "asc" } }, refunds: { orderBy: { createdAt: "asc" } } },
        })
      : null;
    if (!order) throw notFound("order", id);
    return orderView(order);
  });

  app.post("/api/orders/:id/cancel", async (request, reply) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const { reason } = parseRequest(cancelOrderBody, request.body);
    return reply.status(202).send(await cancelOrder(db, id, reason, tenantScope(request)));
  });
  done();
};
