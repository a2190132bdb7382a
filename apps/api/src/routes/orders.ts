import type { FastifyPluginCallback } from "fastify";
import type { PrismaClient } from "@outbox/db";
import { orderStatus } from "@outbox/handlers";
import { publish } from "@outbox/outbox";
import { conflict, notFound } from "../errors.ts";
import { runIdempotently } from "../idempotency.ts";
import { createOrder } from "../orders/create-order.ts";
import { orderView } from "../orders/order-view.ts";
import { cancelOrderBody, createOrderBody, idempotencyKeyHeader, idParams } from "../schemas.ts";
import { isUuid, parseRequest } from "../validation.ts";

export const orderRoutes: FastifyPluginCallback<{ prisma: PrismaClient }> = (app, { prisma }, done) => {
  app.post("/api/orders", async (request, reply) => {
    const headers = parseRequest(idempotencyKeyHeader, request.headers, "headers");
    const body = parseRequest(createOrderBody, request.body);
    const key = headers["idempotency-key"];
    const answer = await runIdempotently(prisma, { scope: "POST /api/orders", key, body: request.body }, (tx) => createOrder(tx, body));
    if (answer.replayed) void reply.header("idempotent-replayed", "true");
    return reply.status(answer.status).send(answer.body);
  });

  app.get("/api/orders/:id", async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const order = isUuid(id)
      ? await prisma.order.findUnique({
          where: { id },
          include: { items: true, payments: { orderBy: { createdAt: "asc" } }, refunds: { orderBy: { createdAt: "asc" } } },
        })
      : null;
    if (!order) throw notFound("order", id);
    return orderView(order);
  });

  /**
   * Marks the order cancelled at once (so a second cancel is refused) and publishes OrderCancelled,
   * whose handler restores the stock and refunds. The order row is locked so a concurrent payment
   * or cancel sees the result.
   */
  app.post("/api/orders/:id/cancel", async (request, reply) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const { reason } = parseRequest(cancelOrderBody, request.body);
    const result = await prisma.$transaction(async (tx) => {
      const [order] = isUuid(id)
        ? await tx.$queryRaw<{ id: string; tenant_id: string; status: string; status_reason: string | null }[]>`
            SELECT id::text, tenant_id::text, status, status_reason FROM orders WHERE id = ${id}::uuid FOR UPDATE`
        : [];
      if (!order) throw notFound("order", id);
      if (order.status === orderStatus.cancelled) throw conflict("ORDER_ALREADY_CANCELLED", `order ${id} is already cancelled (${order.status_reason ?? "no reason given"})`);
      if (order.status === orderStatus.rejected) throw conflict("ORDER_REJECTED", `order ${id} was rejected (${order.status_reason ?? "no reason given"}); there is nothing to cancel`);
      await tx.order.update({ where: { id }, data: { status: orderStatus.cancelled, statusReason: reason } });
      const cancelledAt = new Date().toISOString();
      const eventId = await publish(tx, { type: "OrderCancelled", payload: { orderId: id, tenantId: order.tenant_id, reason, cancelledAt } });
      return { id, status: orderStatus.cancelled, previousStatus: order.status, reason, cancelledAt, eventId };
    });
    return reply.status(202).send(result);
  });
  done();
};
