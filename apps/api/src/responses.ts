import { z } from "zod";
import { orderEvents, orderStatus, paymentStatus } from "@outbox/domain";

/**
 * What the API answers: each route declares these as `schema.response`. Fastify serializes every
 * answer through its status's schema (fastify-type-provider-zod), so an answer carries exactly the
 * documented fields: a field missing from a schema never leaves the server, and an answer that does
 * not match it is a 500 in the log (a test, openapi.test.ts, calls every documented route).
 * Views are lenient on content (plain strings) and exact on shape.
 */

/** A time: the server answers it as an ISO-8601 string (a Date serializes to one). */
export const timestamp = z
  .custom<Date | string>((value) => value instanceof Date || (typeof value === "string" && !Number.isNaN(Date.parse(value))), "must be a date-time")
  .meta({ type: "string", format: "date-time" });

const uuid = z.string().meta({ format: "uuid" });
const money = z.number().int().meta({ description: "integer minor units (cents)" });

export const fieldIssue = z
  .object({ path: z.string().meta({ description: "the field, dotted (`items.0.quantity`); empty for the whole part" }), message: z.string() })
  ;

/** The one error shape, of every refusal and failure. */
export const errorBody = z.object({
  error: z.string().meta({ description: "what went wrong, in words a person can act on" }),
  code: z.string().meta({ description: "a stable code to branch on: VALIDATION_FAILED, ORDER_NOT_FOUND, …" }),
  issues: z.array(fieldIssue).optional().meta({ description: "one per failing field" }),
});

const errorMeanings = {
  400: "Invalid input: VALIDATION_FAILED with one issue per failing field (NUL characters and lone surrogates included), MALFORMED_JSON, EMPTY_BODY or BODY_TOO_DEEP; nothing was written",
  401: "No credentials, or credentials that are unknown or revoked (with WWW-Authenticate)",
  403: "The credentials may not do this: TENANT_FORBIDDEN (a body tenantId that is not the key's) or ADMIN_REQUIRED",
  404: "Not found (an id that is not a UUID, or another tenant's, reads as unknown)",
  409: "The resource's state refuses it; `code` says why",
  413: "BODY_TOO_LARGE: the body is over 64 KiB",
  415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
  429: "RATE_LIMITED: this API key is over its rate limit; retry after Retry-After seconds",
  503: "OVERLOADED, UNAVAILABLE or CONTENDED: come back after Retry-After seconds",
} as const;
export type ErrorStatus = keyof typeof errorMeanings;

/**
 * A route's `schema.response`: its answers plus the error statuses it can give, each described
 * with the one error shape. `/api` routes add 401, 429 and 503 (authentication, the rate limit
 * and load shedding run before any route).
 */
export function answers<const R extends Record<number, z.ZodType>, const E extends readonly ErrorStatus[]>(success: R, errors: E) {
  const refusals = {} as Record<E[number], typeof errorBody>;
  for (const status of errors) (refusals as Record<number, z.ZodType>)[status] = errorBody.meta({ description: errorMeanings[status] });
  return { ...success, ...refusals };
}
/** The statuses every /api route can answer before it runs. */
export const apiRefusals = [401, 429, 503] as const;
/** And those of a route that takes a JSON body. */
export const bodyRefusals = [400, 413, 415] as const;

const described = <T extends z.ZodType>(schema: T, description: string) => schema.meta({ description });

export const tenantCreated = described(
  z.object({ id: uuid, name: z.string(), slug: z.string(), createdAt: timestamp, eventId: uuid, apiKeyId: uuid, apiKey: z.string().meta({ description: "the tenant's first API key, shown only here" }) }),
  "The tenant, its TenantCreated event and its first API key",
);

export const userCreated = described(
  z.object({ id: uuid, tenantId: uuid, email: z.string(), role: z.string(), createdAt: timestamp, eventId: uuid }),
  "The user and its UserCreated event",
);

const productFields = {
  id: uuid,
  tenantId: uuid,
  sellerId: uuid,
  categoryId: z.string(),
  name: z.string(),
  price: money,
  stock: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
};
export const productView = described(z.object(productFields), "The product");
export const productCreated = described(z.object({ ...productFields, eventId: uuid }), "The product and its ProductCreated event");

const addressView = z.object({
  firstName: z.string(),
  lastName: z.string(),
  address1: z.string(),
  address2: z.string().optional(),
  city: z.string(),
  postalCode: z.string(),
  country: z.string(),
});

export const paymentView = described(
  z.object({
    id: uuid,
    orderId: uuid,
    tenantId: uuid,
    amount: money,
    status: z.enum(Object.values(paymentStatus)),
    createdAt: timestamp,
    processedAt: timestamp.nullable(),
    expiredAt: timestamp.nullable(),
  }),
  "The payment",
);

const orderFields = {
  id: uuid,
  tenantId: uuid,
  orderNumber: z.string().meta({ examples: ["ORD-000042"] }),
  status: z.enum(Object.values(orderStatus)),
  statusReason: z.string().nullable(),
  customerId: uuid,
  customerEmail: z.string(),
  totalAmount: money,
  currency: z.string().meta({ examples: ["USD"] }),
  items: z.array(z.object({ productId: uuid, quantity: z.number().int(), unitPrice: money })),
  shippingAddress: addressView,
  billingAddress: addressView.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
};
export const orderCreated = described(z.object({ ...orderFields, eventId: uuid }), "The pending order and its OrderCreated event (the same answer again for a replayed Idempotency-Key)");
export const orderView = described(
  z.object({
    ...orderFields,
    payments: z.array(paymentView),
    refunds: z.array(z.object({ id: uuid, paymentId: uuid, amount: money, reason: z.string().nullable(), createdAt: timestamp })),
  }),
  "The order with its items, payments and refunds",
);

export const orderCancelled = described(
  z.object({ id: uuid, status: z.literal(orderStatus.cancelled), previousStatus: z.string(), reason: z.string(), cancelledAt: timestamp, eventId: uuid }),
  "The order is cancelled; OrderCancelled restores its stock and refunds it",
);

export const paymentCompleted = described(
  z.object({ id: uuid, orderId: uuid, status: z.literal(paymentStatus.processing), outcome: z.enum(["succeeded", "failed"]), eventId: uuid }),
  "The payment is processing; PaymentProcessed settles it",
);

export const eventState = described(
  z.object({
    id: uuid,
    type: z.string().meta({ examples: [...orderEvents.types] }),
    status: z.enum(["pending", "dispatched", "processed", "dead", "skipped"]),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    aggregateType: z.string(),
    aggregateId: z.string(),
    tenantId: z.string().nullable(),
    causationId: uuid.nullable().meta({ description: "the event whose handler published this one" }),
    payload: z.unknown().meta({ description: "the event's payload, as its type's schema describes it" }),
    availableAt: timestamp,
    createdAt: timestamp,
    dispatchedAt: timestamp.nullable(),
    processedAt: timestamp.nullable(),
    handledAt: timestamp.nullable().meta({ description: "when its handler's effects committed (processed only)" }),
  }),
  "The event's place in the pipeline",
);

const apiKeyFields = { id: uuid, tenantId: uuid, name: z.string().nullable(), prefix: z.string().meta({ description: "the key's first characters, to tell keys apart" }), createdAt: timestamp, revokedAt: timestamp.nullable() };
export const apiKeyView = described(z.object(apiKeyFields), "The API key (never the key itself)");
export const apiKeyCreated = described(z.object({ ...apiKeyFields, apiKey: z.string().meta({ description: "the key, shown only here" }) }), "The new API key, shown once");
export const apiKeyList = described(z.object({ apiKeys: z.array(z.object(apiKeyFields)) }), "The tenant's API keys, newest first");

/**
 * The answers built by views typed loosely (`Record<string, unknown>`, e.g. an order's stored
 * Idempotency-Key answer): the serializer checks them against these schemas on every answer.
 */
export type OrderCreated = z.output<typeof orderCreated>;
export type OrderView = z.output<typeof orderView>;
export type PaymentView = z.output<typeof paymentView>;
