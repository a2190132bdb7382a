import type { FastifyPluginCallback } from "fastify";
import type { PrismaClient, Tx } from "@outbox/db";
import { orderStatus, paymentStatus } from "@outbox/handlers";
import { publish } from "@outbox/outbox";
import { conflict, invalid, notFound } from "../errors.ts";
import { paymentView } from "../orders/order-view.ts";
import { completePaymentBody, createPaymentBody, idParams } from "../schemas.ts";
import { isUuid, parseRequest } from "../validation.ts";

interface LockedOrder {
  id: string;
  tenant_id: string;
  status: string;
  status_reason: string | null;
  total_amount: number;
}

/** Locks the order row (orders before payments, the handlers' lock order). */
async function lockOrder(tx: Tx, id: string): Promise<LockedOrder | undefined> {
  if (!isUuid(id)) return undefined;
  const [order] = await tx.$queryRaw<LockedOrder[]>`
    SELECT id::text, tenant_id::text, status, status_reason, total_amount FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
  return order;
}

/** Why an order in this state takes no new payment; undefined when it does. */
function refusal(order: LockedOrder): { code: string; message: string } | undefined {
  const reason = order.status_reason ? ` (${order.status_reason})` : "";
  switch (order.status) {
    case orderStatus.awaitingPayment:
      return undefined;
    case orderStatus.cancelled:
      return { code: "ORDER_CANCELLED", message: `order ${order.id} is cancelled${reason}` };
    case orderStatus.rejected:
      return { code: "ORDER_REJECTED", message: `order ${order.id} was rejected${reason}` };
    case orderStatus.paid:
      return { code: "ORDER_ALREADY_PAID", message: `order ${order.id} is already paid` };
    case orderStatus.paymentPending:
      return { code: "PAYMENT_IN_PROGRESS", message: `order ${order.id} already has an open payment` };
    default:
      return { code: "ORDER_NOT_READY", message: `order ${order.id} is ${order.status}: its stock is not reserved yet; try again shortly` };
  }
}

export const paymentRoutes: FastifyPluginCallback<{ prisma: PrismaClient }> = (app, { prisma }, done) => {
  /** Opens a pending payment for the whole order total; the order waits on it (`payment_pending`). */
  app.post("/api/payments", async (request, reply) => {
    const body = parseRequest(createPaymentBody, request.body);
    const payment = await prisma.$transaction(async (tx) => {
      const order = await lockOrder(tx, body.orderId);
      if (!order) throw notFound("order", body.orderId);
      const refused = refusal(order);
      if (refused) throw conflict(refused.code, refused.message);
      if (body.amount !== order.total_amount) throw invalid([{ path: "amount", message: `must equal the order total ${order.total_amount}` }]);
      await tx.order.update({ where: { id: order.id }, data: { status: orderStatus.paymentPending, statusReason: null } });
      return tx.payment.create({ data: { tenantId: order.tenant_id, orderId: order.id, amount: body.amount, status: paymentStatus.pending } });
    });
    return reply.status(201).send(paymentView(payment));
  });

  app.get("/api/payments/:id", async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const payment = isUuid(id) ? await prisma.payment.findUnique({ where: { id } }) : null;
    if (!payment) throw notFound("payment", id);
    return paymentView(payment);
  });

  /** The payment provider's answer: the payment becomes `processing` and PaymentProcessed settles it. */
  app.post("/api/payments/:id/complete", async (request, reply) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const { succeeded } = parseRequest(completePaymentBody, request.body);
    const result = await prisma.$transaction(async (tx) => {
      const found = isUuid(id) ? await tx.payment.findUnique({ where: { id }, select: { orderId: true } }) : null;
      if (!found) throw notFound("payment", id);
      const order = (await lockOrder(tx, found.orderId))!;
      const [payment] = await tx.$queryRaw<{ status: string; amount: number }[]>`
        SELECT status, amount FROM payments WHERE id = ${id}::uuid FOR UPDATE`;
      if (payment!.status !== paymentStatus.pending) throw conflict("PAYMENT_NOT_PENDING", `payment ${id} is ${payment!.status}, not pending`);
      if (order.status === orderStatus.cancelled) throw conflict("ORDER_CANCELLED", `order ${order.id} is cancelled${order.status_reason ? ` (${order.status_reason})` : ""}`);
      await tx.payment.update({ where: { id }, data: { status: paymentStatus.processing } });
      const processedAt = new Date().toISOString();
      const eventId = await publish(tx, {
        type: "PaymentProcessed",
        payload: { paymentId: id, orderId: order.id, tenantId: order.tenant_id, amount: payment!.amount, status: succeeded ? "succeeded" : "failed", processedAt },
      });
      return { id, orderId: order.id, status: paymentStatus.processing, outcome: succeeded ? "succeeded" : "failed", eventId };
    });
    return reply.status(202).send(result);
  });
  done();
};
