import { z } from "zod";
import type { WebhookTypeDefinition } from "outbox-relay/webhooks";
import { orderStatus, paymentStatus } from "../statuses.ts";
import { currency, id, money, orderCancelled, orderCreated, orderItem, productCreated, timestamp, uuid, webhookTypes, type WebhookType } from "./schemas.ts";

/**
 * The `data` each shop webhook carries, as the handlers build it (packages/handlers: each
 * `fanOutWebhooks` call's notifications are typed with these), and its example. Tenants read them
 * as JSON Schema at `GET /api/event-types`.
 */

const orderId = uuid.meta({ description: "the order's id (GET /api/orders/:id)" });
const paymentId = uuid.meta({ description: "the payment's id (GET /api/payments/:id)" });
const orderNumber = orderCreated.shape.orderNumber.meta({ description: "the order's human-readable number, e.g. ORD-000042" });
const amount = (description: string) => money.meta({ description: `${description}, in integer minor units (cents)` });

const orderCreatedData = z.object({
  orderId,
  orderNumber,
  status: z.enum([orderStatus.awaitingPayment, orderStatus.rejected]).meta({
    description: "awaiting_payment: the stock is reserved; rejected: some product had too little stock, and nothing was reserved",
  }),
  statusReason: z.string().nullable().meta({ description: "why the order was rejected; null when it was accepted" }),
  totalAmount: amount("the order's total"),
  currency,
  items: z.array(orderItem).min(1),
});

const orderCancelledData = z.object({
  orderId,
  orderNumber,
  reason: orderCancelled.shape.reason,
  restoredStock: z
    .array(z.object({ productId: id, quantity: z.number().int().min(1) }))
    .meta({ description: "the stock this cancel gave back, per product (empty when the order had reserved none, or an earlier cancel gave it back)" }),
  refundedAmount: amount("what this cancel refunded of completed payments (0 when nothing was paid)"),
  currency,
});

const settledPayment = (status: typeof paymentStatus.completed | typeof paymentStatus.failed) =>
  z.object({
    paymentId,
    orderId,
    amount: amount("the payment's amount"),
    status: z.literal(status),
    refundedAmount: amount("refunded at once because the order was cancelled or paid by another payment meanwhile (0 otherwise)"),
  });

const paymentExpiredData = z.object({
  paymentId,
  orderId,
  amount: amount("the payment's amount"),
  expiredAt: timestamp,
});

const productCreatedData = z.object({
  productId: productCreated.shape.productId,
  name: productCreated.shape.name,
  sellerId: productCreated.shape.sellerId,
  categoryId: productCreated.shape.categoryId,
  price: amount("the product's price"),
});

export const webhookData = {
  "order.created": orderCreatedData,
  "order.cancelled": orderCancelledData,
  "payment.completed": settledPayment(paymentStatus.completed),
  "payment.failed": settledPayment(paymentStatus.failed),
  "payment.expired": paymentExpiredData,
  "product.created": productCreatedData,
} satisfies Record<WebhookType, z.ZodType>;

/** The `data` of one shop webhook type. */
export type WebhookData<T extends WebhookType> = z.output<(typeof webhookData)[T]>;

const exampleOrderId = "5f0c1e2a-8b7d-4c3e-9a21-6d4b8e0f7a13";
const examplePaymentId = "a3d9e4b2-1c6f-4e8a-b5d7-0f2e9c8a4b61";
const exampleProductId = "c7e2a9f4-3b1d-4f6e-8a05-9d3c2b1e0f48";

const examples: { [T in WebhookType]: WebhookData<T> } = {
  "order.created": {
    orderId: exampleOrderId,
    orderNumber: "ORD-000042",
    status: "awaiting_payment",
    statusReason: null,
    totalAmount: 2500,
    currency: "USD",
    items: [{ productId: exampleProductId, quantity: 2, unitPrice: 1250 }],
  },
  "order.cancelled": {
    orderId: exampleOrderId,
    orderNumber: "ORD-000042",
    reason: "customer changed their mind",
    restoredStock: [{ productId: exampleProductId, quantity: 2 }],
    refundedAmount: 2500,
    currency: "USD",
  },
  "payment.completed": { paymentId: examplePaymentId, orderId: exampleOrderId, amount: 2500, status: "completed", refundedAmount: 0 },
  "payment.failed": { paymentId: examplePaymentId, orderId: exampleOrderId, amount: 2500, status: "failed", refundedAmount: 0 },
  "payment.expired": { paymentId: examplePaymentId, orderId: exampleOrderId, amount: 2500, expiredAt: "2026-12-06T09:30:00.000Z" },
  "product.created": {
    productId: exampleProductId,
    name: "A book",
    sellerId: "e1b4c8d2-7a3f-4e9b-a6c0-2d5f8e1b3a97",
    categoryId: "books",
    price: 1250,
  },
};

const descriptions: Record<WebhookType, string> = {
  "order.created": "An order was placed and its stock decided: reserved (awaiting_payment) or refused (rejected, with the reason).",
  "order.cancelled": "An order was cancelled: the stock it had reserved is back, and completed payments are refunded.",
  "payment.completed": "A payment succeeded; its order is paid (or, if the order was cancelled or paid meanwhile, the payment is refunded at once).",
  "payment.failed": "A payment failed; an order that waited on it awaits payment again.",
  "payment.expired": "A payment stayed pending too long and expired; an order that waited on it awaits payment again.",
  "product.created": "A product was added to the catalog.",
};

/** The shop's webhook types for outbox-relay/webhooks' `describeWebhookTypes` and `webhookTypeNames`. */
export const webhookTypeDefinitions = Object.fromEntries(
  webhookTypes.map((type): [WebhookType, WebhookTypeDefinition] => [type, { description: descriptions[type], schema: webhookData[type], example: examples[type] }]),
) as Record<WebhookType, WebhookTypeDefinition>;
