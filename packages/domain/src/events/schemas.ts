import { z } from "zod";
import { isStorableText, unstorableTextMessage } from "outbox-relay";
import { maxMoney } from "../money.ts";

const regionNames = new Intl.DisplayNames(["en"], { type: "region" });
/** ISO 3166 leaves these to private use; Intl names some of them ("Unknown Region"). */
const userAssignedCodes = /^(AA|Q[M-Z]|X[A-Z]|ZZ)$/;

/** Every free-text field: a string Postgres can store (no NUL, no lone surrogate; see text.ts). */
export const text = () => z.string().refine(isStorableText, unstorableTextMessage);


export const id = text().trim().min(1, "must not be empty").max(200);
export const uuid = z.uuid("must be a UUID");
export const timestamp = z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time" });
/**
 * Money is an integer count of the currency's minor unit (cents), stored as bigint; as a JSON number
 * it stays a safe integer (past 2^53 - 1 two amounts could read as one).
 */
export const money = z
  .number("must be a number")
  .max(maxMoney, { error: `must be at most ${maxMoney} (2^53 - 1)`, abort: true })
  .int("must be an integer amount of minor units (cents)")
  .min(0, "must not be negative");
export const currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD");
export const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, { error: "must be an ISO 3166 alpha-2 code such as DE", abort: true })
  .refine((code) => regionNames.of(code) !== code && !userAssignedCodes.test(code), "is not an ISO 3166 country code");
export const email = z.email("must be an email address").max(320);

export const address = z.object({
  firstName: text().trim().min(1).max(100),
  lastName: text().trim().min(1).max(100),
  address1: text().trim().min(1).max(200),
  address2: text().trim().max(200).optional(),
  city: text().trim().min(1).max(100),
  postalCode: text().trim().min(1).max(20),
  country: countryCode,
});
export type Address = z.infer<typeof address>;

export const orderItem = z.object({
  productId: id,
  quantity: z.number().int("must be a whole number").min(1, "must be at least 1").max(10_000),
  unitPrice: money,
});

export const orderCreated = z.object({
  orderId: id,
  orderNumber: text().min(1),
  tenantId: id,
  customerId: id,
  customerEmail: email,
  totalAmount: money,
  currency,
  items: z.array(orderItem).min(1, "must hold at least one item").max(100),
  shippingAddress: address,
  billingAddress: address.optional(),
  createdAt: timestamp,
});

export const orderCancelled = z.object({
  orderId: id,
  tenantId: id,
  reason: text().trim().min(1).max(500),
  cancelledAt: timestamp,
});

export const paymentProcessed = z.object({
  paymentId: id,
  orderId: id,
  tenantId: id,
  amount: money,
  status: z.enum(["succeeded", "failed"]),
  processedAt: timestamp,
});

export const paymentExpired = z.object({
  paymentId: id,
  orderId: id,
  tenantId: id,
  expiredAt: timestamp,
});

export const userRole = z.enum(["customer", "seller", "admin"]);

export const userCreated = z.object({
  userId: id,
  tenantId: id,
  email,
  role: userRole,
  createdAt: timestamp,
});

export const productCreated = z.object({
  productId: id,
  tenantId: id,
  name: text().trim().min(1).max(200),
  sellerId: id,
  categoryId: id,
  price: money,
  createdAt: timestamp,
});

export const tenantCreated = z.object({
  tenantId: id,
  name: text().trim().min(1).max(200),
  slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be lowercase letters, digits and single hyphens").max(63),
  createdAt: timestamp,
});

export const webhookTypes = [
  "order.created",
  "order.cancelled",
  "payment.completed",
  "payment.failed",
  "payment.expired",
  "product.created",
] as const;
export const webhookType = z.enum(webhookTypes);
export type WebhookType = z.infer<typeof webhookType>;
