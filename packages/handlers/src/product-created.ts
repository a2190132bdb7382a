import type { HandlerContext } from "@outbox/processor";
import { fanOutWebhooks } from "./webhook-fan-out.ts";

/** Counts the product in its category (one upsert; the inbox keeps it to once) and tells webhooks. */
export async function handleProductCreated(ctx: HandlerContext<"ProductCreated">): Promise<void> {
  const { tx, event } = ctx;
  const { payload } = event;
  await tx.$executeRaw`
    INSERT INTO category_product_counts AS c (tenant_id, category_id, product_count, updated_at)
    VALUES (${payload.tenantId}::uuid, ${payload.categoryId}, 1, now())
    ON CONFLICT (tenant_id, category_id) DO UPDATE SET product_count = c.product_count + 1, updated_at = now()`;
  await fanOutWebhooks(ctx, payload.tenantId, "product.created", {
    productId: payload.productId,
    name: payload.name,
    sellerId: payload.sellerId,
    categoryId: payload.categoryId,
    price: payload.price,
  });
}
