import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import type { PrismaClient } from "@outbox/db";
import type { Database } from "outbox-relay";
import { tenantScope } from "../auth/access.ts";
import { notFound } from "../errors.ts";
import { paymentView } from "../orders/order-view.ts";
import { completePayment } from "../payments/complete-payment.ts";
import { openPayment } from "../payments/open-payment.ts";
import { answers, apiRefusals, bodyRefusals, paymentCompleted, paymentView as paymentViewSchema, type PaymentView } from "../responses.ts";
import { completePaymentBody, createPaymentBody, idParams } from "../schemas.ts";
import { isUuid } from "../validation.ts";

export const paymentRoutes: FastifyPluginCallbackZod<{ prisma: PrismaClient; db: Database }> = (app, { prisma, db }, done) => {
  app.post(
    "/api/payments",
    {
      config: { access: "tenant" },
      schema: {
        summary: "Open a payment for an order's total",
        description: "The order must be `awaiting_payment` (its stock reserved); it waits on the payment (`payment_pending`).",
        body: createPaymentBody,
        response: answers({ 201: paymentViewSchema }, [...bodyRefusals, 404, 409, ...apiRefusals]),
      },
    },
    async (request, reply) => {
      const payment = await openPayment(db, request.body.orderId, request.body.amount, tenantScope(request));
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
        }) as PaymentView,
      );
    },
  );

  app.get(
    "/api/payments/:id",
    { config: { access: "tenant" }, schema: { summary: "Read a payment", params: idParams, response: answers({ 200: paymentViewSchema }, [400, 404, ...apiRefusals]) } },
    async (request) => {
      const { id } = request.params;
      const scope = tenantScope(request);
      const payment = isUuid(id) ? await prisma.payment.findFirst({ where: { id, ...(scope ? { tenantId: scope } : {}) } }) : null;
      if (!payment) throw notFound("payment", id);
      return paymentView(payment) as PaymentView;
    },
  );

  app.post(
    "/api/payments/:id/complete",
    {
      config: { access: "tenant" },
      schema: {
        summary: "Record the payment provider's answer",
        description: "The payment becomes `processing`; PaymentProcessed settles it (`completed` makes the order `paid`) and sends webhooks `payment.completed` or `payment.failed`.",
        params: idParams,
        body: completePaymentBody,
        response: answers({ 202: paymentCompleted }, [...bodyRefusals, 404, 409, ...apiRefusals]),
      },
    },
    async (request, reply) => {
      const completed = await completePayment(db, request.params.id, request.body.succeeded, tenantScope(request));
      return reply.status(202).send({ ...completed, outcome: request.body.succeeded ? "succeeded" : "failed" });
    },
  );
  done();
};
