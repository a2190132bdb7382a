import type { Tx } from "@outbox/db";
import type { EventPayload } from "@outbox/events";
import { orderStatus } from "@outbox/handlers";
import { publish } from "@outbox/outbox";
import { ApiError, invalid, notFound } from "../errors.ts";
import type { CreateOrderBody } from "../schemas.ts";
import { isUuid } from "../validation.ts";
import { orderView } from "./order-view.ts";

const maxOrderTotal = 2_000_000_000;

export function formatOrderNumber(sequence: number): string {
  return `ORD-${String(sequence).padStart(6, "0")}`;
}

/**
 * Writes a `pending` order, its items and its OrderCreated event in the caller's transaction.
 * The total is computed here from the items; each item's product must belong to the tenant and
 * its unit price must be the product's current price. The order number comes from
 * order_number_seq: unique, readable, and taken without locking anything.
 */
export async function createOrder(tx: Tx, body: CreateOrderBody): Promise<{ status: number; body: Record<string, unknown> }> {
  const tenant = isUuid(body.tenantId) ? await tx.tenant.findUnique({ where: { id: body.tenantId }, include: { settings: true } }) : null;
  if (!tenant) throw notFound("tenant", body.tenantId);

  const ids = body.items.map((item) => item.productId);
  const products = await tx.product.findMany({ where: { id: { in: ids.filter(isUuid) }, tenantId: tenant.id }, select: { id: true, price: true } });
  const prices = new Map(products.map((product) => [product.id, product.price]));
  const missing = ids.filter((id) => !prices.has(id));
  if (missing.length > 0) {
    throw new ApiError(404, "PRODUCT_NOT_FOUND", `product ${missing.join(", ")} not found in tenant ${tenant.id}`);
  }
  const stale = body.items.flatMap((item, index) =>
    prices.get(item.productId) === item.unitPrice ? [] : [{ path: `items.${index}.unitPrice`, message: `is ${item.unitPrice} but the product's price is ${prices.get(item.productId)}` }],
  );
  if (stale.length > 0) throw new ApiError(409, "PRICE_MISMATCH", `unit prices differ from the current prices: ${stale.map((s) => `${s.path} ${s.message}`).join("; ")}`, stale);

  const totalAmount = body.items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  if (totalAmount > maxOrderTotal) throw invalid([{ path: "items", message: `order total ${totalAmount} exceeds ${maxOrderTotal}` }]);

  const [next] = await tx.$queryRaw<{ value: number }[]>`SELECT nextval('order_number_seq')::int AS value`;
  const orderNumber = formatOrderNumber(next!.value);
  const currency = tenant.settings?.currency ?? "USD";
  const order = await tx.order.create({
    data: {
      tenantId: tenant.id,
      orderNumber,
      customerId: body.customerId,
      customerEmail: body.customerEmail,
      status: orderStatus.pending,
      totalAmount,
      currency,
      shippingAddress: body.shippingAddress,
      ...(body.billingAddress ? { billingAddress: body.billingAddress } : {}),
      items: { create: body.items.map(({ productId, quantity, unitPrice }) => ({ productId, quantity, unitPrice })) },
    },
    include: { items: true },
  });
  const payload: EventPayload<"OrderCreated"> = {
    orderId: order.id,
    orderNumber,
    tenantId: tenant.id,
    customerId: order.customerId,
    customerEmail: order.customerEmail,
    totalAmount,
    currency,
    items: body.items,
    shippingAddress: body.shippingAddress,
    ...(body.billingAddress ? { billingAddress: body.billingAddress } : {}),
    createdAt: order.createdAt.toISOString(),
  };
  const eventId = await publish(tx, { type: "OrderCreated", payload });
  return { status: 201, body: { ...orderView(order), eventId } };
}
