import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import type { PrismaClient } from "@outbox/db";
import type { Database } from "outbox-relay";
import { requireBodyTenant, tenantScope } from "../auth/access.ts";
import { notFound } from "../errors.ts";
import { cancelOrder } from "../orders/cancel-order.ts";
import { createOrder } from "../orders/create-order.ts";
import { orderView } from "../orders/order-view.ts";
import { answers, apiRefusals, bodyRefusals, orderCancelled, orderCreated, orderView as orderViewSchema, type OrderCreated, type OrderView } from "../responses.ts";
import { cancelOrderBody, createOrderBody, idempotencyKeyHeader, idParams } from "../schemas.ts";
import { isUuid } from "../validation.ts";

export const orderRoutes: FastifyPluginCallbackZod<{ prisma: PrismaClient; db: Database }> = (app, { prisma, db }, done) => {
  app.post(
    "/api/orders",
    {
      config: { access: "tenant" },
      schema: {
        summary: "Place an order",
        description:
          "Checks every item against the tenant's products (`unitPrice` must be the current price), computes the total and writes the order, its items and OrderCreated in one transaction. OrderCreated reserves the stock (all or nothing) and sends webhooks `order.created`.",
        headers: idempotencyKeyHeader,
        body: createOrderBody,
        response: answers({ 201: orderCreated }, [...bodyRefusals, 403, 404, 409, ...apiRefusals]),
      },
    },
    async (request, reply) => {
      const body = request.body;
      requireBodyTenant(request, body.tenantId);
      const answer = await createOrder(db, body, request.headers["idempotency-key"]);
      if (answer.replayed) void reply.header("idempotent-replayed", "true");
      return reply.status(201).send(answer.body as OrderCreated);
    },
  );

  app.get(
    "/api/orders/:id",
    {
      config: { access: "tenant" },
      schema: { summary: "Read an order with its items, payments and refunds", params: idParams, response: answers({ 200: orderViewSchema }, [400, 404, ...apiRefusals]) },
    },
    async (request) => {
      const { id } = request.params;
      const scope = tenantScope(request);
      const order = isUuid(id)
        ? await prisma.order.findFirst({
            where: { id, ...(scope ? { tenantId: scope } : {}) },
            include: { items: true, payments: { orderBy: { createdAt: "asc" } }, refunds: { orderBy: { createdAt: "asc" } } },
          })
        : null;
      if (!order) throw notFound("order", id);
      return orderView(order) as OrderView;
    },
  );

  app.post(
    "/api/orders/:id/cancel",
    {
      config: { access: "tenant" },
      schema: {
        summary: "Cancel an order",
        description: "The order is cancelled at once; OrderCancelled restores its stock, refunds a paid order and sends webhooks `order.cancelled`.",
        params: idParams,
        body: cancelOrderBody,
        response: answers({ 202: orderCancelled }, [...bodyRefusals, 404, 409, ...apiRefusals]),
      },
    },
    async (request, reply) => reply.status(202).send(await cancelOrder(db, request.params.id, request.body.reason, tenantScope(request))),
  );
  done();
};
