import { batch } from "./types.ts";
import { type Queryable, sql } from "outbox-relay";
import { requireUuid } from "./ids.ts";
import { fanOutWebhooks } from "outbox-relay/webhooks";
import type { WebhookData } from "@outbox/domain";

/** Counts the products in their categories and tells webhooks. */
export const handleProductCreated = batch<"ProductCreated">(async (ctx) => {
  const { tx, events } = ctx;
  const products = events.map(({ id, payload }) => ({ eventId: id, ...payload, tenantId: requireUuid("tenant", payload.tenantId) }));
  await countInCategories(tx, products.map(({ tenantId, categoryId }) => ({ tenantId, categoryId })));
  await fanOutWebhooks(tx, products.map(({ eventId, tenantId, productId, name, sellerId, categoryId, price }) => ({
    sourceEventId: eventId,
    tenantId,
    type: "product.created" as const,
    data: { productId, name, sellerId, categoryId, price } satisfies WebhookData<"product.created">,
  })));
});

/**
 * countInCategories: $1 the products as JSON [{tenantId, categoryId}]. Counts them per category
 * first (an upsert cannot touch a row twice), then adds the counts, creating a category's row on
 * first use; rows in key order, so batches counting the same categories lock them in one order.
 */
async function countInCategories(tx: Queryable, products: readonly { tenantId: string; categoryId: string }[]): Promise<void> {
  await tx.execute(sql`
    INSERT INTO category_product_counts AS c (tenant_id, category_id, product_count, updated_at)
    SELECT p."tenantId", p."categoryId", count(*), now()
    FROM jsonb_to_recordset(${JSON.stringify(products)}::jsonb) AS p("tenantId" uuid, "categoryId" text)
    GROUP BY p."tenantId", p."categoryId"
    ORDER BY p."tenantId", p."categoryId"
    ON CONFLICT (tenant_id, category_id) DO UPDATE SET product_count = c.product_count + EXCLUDED.product_count, updated_at = now()`);
}
