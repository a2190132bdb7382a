import type { FastifyPluginCallback } from "fastify";
import type { PrismaClient } from "@outbox/db";
import type { Database } from "@outbox/sql";
import { tenantScope } from "../auth/access.ts";
import { notFound } from "../errors.ts";
import { paymentView } from "../orders/order-view.ts";
import { completePayment } from "../payments/complete-payment.ts";
import { openPayment } from "../payments/open-payment.ts";
import { completePaymentBody, createPaymentBody, idParams } from "../schemas.ts";
import { isUuid, parseRequest } from "../validation.ts";

export const paymentRoutes: FastifyPluginCallback<{ prisma: PrismaClient; db: Database }> = (app, { prisma, db }, done) => {
  /** Opens a pending payment for the whole order total; the order waits on it (`payment_pending`). */
  app.post("/api/payments", async (request, reply) => {
    const body = parseRequest(createPaymentBody, request.body);
    const payment = await openPayment(db, body.orderId, body.amount, tenantScope(request));
    return reply.status(201).send(
      paymentView({
        id: payment.id,
        orderId: payment.order_id,
        tenantId: payment.tenant_id,
        amount: payment.amount,
        status: payment.status,
        createdAt: payment.created_at,
        processedAt: payment.processed_at,
        expiredAt: payment.expired_at,
      }),
    );
  });

  app.get("/api/payments/:id", async (request) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const scope = tenantScope(request);
    const payment = isUuid(id) ? await prisma.payment.findFirst({ where: { id, ...(scope ? { tenantId: scope } : {}) } }) : null;
    if (!payment) throw notFound("payment", id);
    return paymentView(payment);
  });

  /** The payment provider's answer: the payment becomes `processing` and PaymentProcessed settles it. */
  app.post("/api/payments/:id/complete", async (request, reply) => {
    const { id } = parseRequest(idParams, request.params, "params");
    const { succeeded } = parseRequest(completePaymentBody, request.body);
    return reply.status(202).send(await completePayment(db, id, succeeded, tenantScope(request)));
  });
  done();
};
