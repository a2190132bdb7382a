import { z } from "zod";
import { schemas } from "@outbox/events";

/** Request bodies, built from the event catalog's schemas where they describe the same thing. */
export const idParams = z.object({ id: z.string() });

export const createTenantBody = z.object({
  name: schemas.tenantCreated.shape.name,
  slug: schemas.tenantCreated.shape.slug,
});

export const createUserBody = z.object({
  tenantId: schemas.id,
  email: schemas.email,
  role: schemas.userRole,
});

export const createProductBody = z.object({
  tenantId: schemas.id,
  sellerId: schemas.uuid,
  categoryId: schemas.productCreated.shape.categoryId,
  name: schemas.productCreated.shape.name,
  price: schemas.money,
  stock: z.number().int("must be a whole number").min(0, "must not be negative").max(1_000_000_000),
});

export const createOrderBody = z.object({
  tenantId: schemas.id,
  customerId: schemas.uuid,
  customerEmail: schemas.email,
  items: z
    .array(schemas.orderItem)
    .min(1, "must hold at least one item")
    .max(100, "must hold at most 100 items")
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        if (seen.has(item.productId)) ctx.addIssue({ code: "custom", path: [index, "productId"], message: "appears more than once; use one item with the total quantity" });
        seen.add(item.productId);
      });
    }),
  shippingAddress: schemas.address,
  billingAddress: schemas.address.optional(),
});
export type CreateOrderBody = z.infer<typeof createOrderBody>;

export const cancelOrderBody = z.object({ reason: schemas.orderCancelled.shape.reason });

export const createPaymentBody = z.object({ orderId: schemas.id, amount: schemas.money });

export const completePaymentBody = z.object({ succeeded: z.boolean("must be true or false") });

export const idempotencyKeyHeader = z.object({
  "idempotency-key": z
    .string("must be a single header value")
    .trim()
    .min(1, "must not be empty")
    .max(255, "must be at most 255 characters")
    .optional(),
});
