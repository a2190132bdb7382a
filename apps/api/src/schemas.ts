import { z } from "zod";
import { schemas } from "@outbox/domain";

/**
 * What requests carry: each route declares these as `schema.params`, `querystring`, `headers` and
 * `body`; Fastify validates with them (a failure answers 400 VALIDATION_FAILED naming each field)
 * and /docs/json describes them. Built from the event catalog's schemas where they describe the
 * same thing. A schema with `.meta({ id })` is one component of the OpenAPI document.
 */

/** A page size in a query string: a whole number from 1 to `max`, `fallback` when absent. */
export function pageLimit(max: number, fallback: number) {
  return z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`)
    .default(fallback)
    .meta({ description: `per page, 1 to ${max} (default ${fallback})` });
}

/** A path id: anything that is not a UUID answers 404, like an unknown id (not 400). */
const pathId = (what: string) => z.string().meta({ description: `the ${what}'s id (a UUID)`, examples: ["9b2f3c1e-8a4d-4f6b-9c0e-2d7a5b1f3e44"] });

export const idParams = z.object({ id: pathId("resource") });
export const tenantParams = z.object({ id: pathId("tenant") });
export const apiKeyParams = z.object({ id: pathId("tenant"), keyId: pathId("API key") });

const address = schemas.address.meta({
  id: "Address",
  description: "A postal address; `country` is an ISO 3166 alpha-2 code",
  examples: [{ firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1 9GU", country: "GB" }],
});

export const createTenantBody = z.object({
  name: schemas.tenantCreated.shape.name.meta({ examples: ["Acme"] }),
  slug: schemas.tenantCreated.shape.slug.meta({ description: "lowercase letters, digits and single hyphens; unique", examples: ["acme"] }),
});

export const createUserBody = z.object({
  tenantId: schemas.id.meta({ description: "the API key's tenant" }),
  email: schemas.email,
  role: schemas.userRole,
});

export const createProductBody = z.object({
  tenantId: schemas.id.meta({ description: "the API key's tenant" }),
  sellerId: schemas.uuid.meta({ description: "a user of the tenant" }),
  categoryId: schemas.productCreated.shape.categoryId.meta({ description: "required: the category the product is counted in (any text, e.g. a slug)", examples: ["books"] }),
  name: schemas.productCreated.shape.name,
  price: schemas.money.meta({ description: "integer minor units (cents)", examples: [1250] }),
  stock: z.number().int("must be a whole number").min(0, "must not be negative").max(1_000_000_000),
});

export const createOrderBody = z.object({
  tenantId: schemas.id.meta({ description: "the API key's tenant" }),
  customerId: schemas.uuid.meta({ description: "a user of the tenant" }),
  customerEmail: schemas.email,
  items: z
    .array(schemas.orderItem.meta({ description: "`unitPrice` must be the product's current price (integer minor units)" }))
    .min(1, "must hold at least one item")
    .max(100, "must hold at most 100 items")
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        if (seen.has(item.productId)) ctx.addIssue({ code: "custom", path: [index, "productId"], message: "appears more than once; use one item with the total quantity" });
        seen.add(item.productId);
      });
    }),
  shippingAddress: address,
  billingAddress: address.optional(),
});
export type CreateOrderBody = z.infer<typeof createOrderBody>;

export const cancelOrderBody = z.object({ reason: schemas.orderCancelled.shape.reason });

export const createPaymentBody = z.object({ orderId: schemas.id, amount: schemas.money.meta({ description: "must equal the order's total" }) });

export const completePaymentBody = z.object({ succeeded: z.boolean("must be true or false").meta({ description: "the payment provider's answer" }) });

export const idempotencyKeyHeader = z.looseObject({
  "idempotency-key": z
    .string("must be a single header value")
    .trim()
    .min(1, "must not be empty")
    .max(255, "must be at most 255 characters")
    .optional()
    .meta({ description: "the same key with the same body answers the first answer again (header `idempotent-replayed: true`); with another body, 409" }),
});

/** A body that may be absent: Fastify hands a missing body to the schema as null. */
export const newApiKeyBody = z
  .object({ name: schemas.text().trim().min(1, "must not be empty").max(100).optional().meta({ description: "a label to tell keys apart" }) })
  .nullish();
