import { randomUUID } from "node:crypto";
import { maxMoney, type OrderEventPayload, orderEvents, orderStatus } from "@outbox/domain";
import { type Database, sql, type Statement } from "outbox-relay";
import { ApiError, conflict, invalid, notFound } from "../errors.ts";
import { requestHash } from "../idempotency.ts";
import type { CreateOrderBody } from "../schemas.ts";
import { isUuid } from "../validation.ts";

export function formatOrderNumber(sequence: number): string {
  return `ORD-${String(sequence).padStart(6, "0")}`;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  replayed: boolean;
}

interface OrderFacts {
  currency: string | null;
  customer_exists: boolean;
  prices: Record<string, number>;
  order_sequence: string;
}

/**
 * readOrderFacts: everything an order is checked against, in one statement: the tenant's currency
 * (null: no such tenant), whether the customer is a user of the tenant, the tenant's products among
 * the items with their prices, and the next order number (order_number_seq: unique, readable, taken
 * without a lock; a refused order leaves a gap). Plain reads.
 */
async function readOrderFacts(db: Database, body: CreateOrderBody): Promise<OrderFacts> {
  const productIds = body.items.map((item) => item.productId).filter(isUuid);
  const [facts] = await db.query<OrderFacts>(sql`
    SELECT
      (SELECT coalesce(s.currency, 'USD') FROM tenants t LEFT JOIN tenant_settings s ON s.tenant_id = t.id WHERE t.id = ${body.tenantId}::uuid) AS currency,
      EXISTS (SELECT 1 FROM users WHERE id = ${body.customerId}::uuid AND tenant_id = ${body.tenantId}::uuid) AS customer_exists,
      (SELECT coalesce(jsonb_object_agg(id, price), '{}'::jsonb) FROM products WHERE id = ANY(${productIds}::uuid[]) AND tenant_id = ${body.tenantId}::uuid) AS prices,
      nextval('order_number_seq')::text AS order_sequence`);
  return facts!;
}

/** The order's total, once every item is the tenant's product at its current price; else the refusal. */
function checkedTotal(body: CreateOrderBody, facts: OrderFacts): number {
  if (facts.currency === null) throw notFound("tenant", body.tenantId);
  const prices = new Map(Object.entries(facts.prices));
  const missing = body.items.map((item) => item.productId).filter((id) => !prices.has(id.toLowerCase()));
  if (missing.length > 0) throw new ApiError(404, "PRODUCT_NOT_FOUND", `product ${missing.join(", ")} not found in tenant ${body.tenantId}`);
  if (!facts.customer_exists) {
    throw new ApiError(404, "CUSTOMER_NOT_FOUND", `customerId ${body.customerId} is not a user of tenant ${body.tenantId}`, [{ path: "customerId", message: "is not a user of the tenant" }]);
  }
  const priceOf = (productId: string) => prices.get(productId.toLowerCase());
  const stale = body.items.flatMap((item, index) =>
    priceOf(item.productId) === item.unitPrice ? [] : [{ path: `items.${index}.unitPrice`, message: `is ${item.unitPrice} but the product's price is ${priceOf(item.productId)}` }],
  );
  if (stale.length > 0) throw new ApiError(409, "PRICE_MISMATCH", `unit prices differ from the current prices: ${stale.map((s) => `${s.path} ${s.message}`).join("; ")}`, stale);
  // Exact in BigInt: quantity × price can pass 2^53 even when each is in range.
  const total = body.items.reduce((sum, item) => sum + BigInt(item.quantity) * BigInt(item.unitPrice), 0n);
  if (total > BigInt(maxMoney)) throw invalid([{ path: "items", message: `order total ${total} exceeds ${maxMoney} (2^53 - 1)` }]);
  return Number(total);
}

/**
 * Creates a `pending` order, its items and its OrderCreated event in two round trips: one read
 * (readOrderFacts), then one statement that writes them all, so they commit together with no
 * transaction held open between the two. With an Idempotency-Key, the same statement inserts the
 * key with the answer first and writes the order only if that insert did (a concurrent request
 * with the key waits on it, then replays the answer); a key already used costs one more read.
 * The statement takes no explicit lock: its items' foreign keys take key-share locks on the
 * products, which the handlers' NO KEY UPDATE locks never block (docs/locking.md).
 */
export async function createOrder(db: Database, body: CreateOrderBody, idempotencyKey: string | undefined): Promise<Answer> {
  if (!isUuid(body.tenantId)) throw notFound("tenant", body.tenantId);
  const facts = await readOrderFacts(db, body);
  const totalAmount = checkedTotal(body, facts);
  const order = newOrder(body, totalAmount, facts.currency!, formatOrderNumber(Number(facts.order_sequence)));
  const published = orderEvents.publishStatement([{ type: "OrderCreated", payload: order.payload }], { onlyIf: sql`EXISTS (SELECT 1 FROM created)` });
  const answer = { ...order.view, eventId: published.ids[0]! };
  const key = idempotencyKey ? { tenantId: body.tenantId, scope: "POST /api/orders", key: idempotencyKey, hash: requestHash(body) } : undefined;
  const [written] = await db.query<{ created: boolean }>(writeOrder(order, published.statement, key, answer));
  if (written!.created) return { status: 201, body: answer, replayed: false };
  return replayIdempotent(db, key!);
}

function newOrder(body: CreateOrderBody, totalAmount: number, currency: string, orderNumber: string) {
  const id = randomUUID();
  const createdAt = new Date().toISOString();
  const items = [...body.items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
  const payload: OrderEventPayload<"OrderCreated"> = {
    orderId: id,
    orderNumber,
    tenantId: body.tenantId,
    customerId: body.customerId,
    customerEmail: body.customerEmail,
    totalAmount,
    currency,
    items: body.items,
    shippingAddress: body.shippingAddress,
    ...(body.billingAddress ? { billingAddress: body.billingAddress } : {}),
    createdAt,
  };
  const view = {
    id,
    tenantId: body.tenantId,
    orderNumber,
    status: orderStatus.pending,
    statusReason: null,
    customerId: body.customerId,
    customerEmail: body.customerEmail,
    totalAmount,
    currency,
    items: body.items.map(({ productId, quantity, unitPrice }) => ({ productId, quantity, unitPrice })),
    shippingAddress: body.shippingAddress,
    billingAddress: body.billingAddress ?? null,
    createdAt,
    updatedAt: createdAt,
  };
  return { id, createdAt, items, payload, view };
}

/** An Idempotency-Key, scoped by its tenant: another tenant's use of the same key is another key. */
interface IdempotencyScope {
  tenantId: string;
  scope: string;
  key: string;
  hash: string;
}

/**
 * writeOrder: the idempotency key (when given), the order, its items (in product id order: one
 * order of key-share locks on products for every order) and its event, in one statement. Each
 * insert after the key's happens only if the key was new (`go`). Returns whether the order was written.
 */
function writeOrder(
  order: ReturnType<typeof newOrder>,
  publishEvent: Statement,
  key: IdempotencyScope | undefined,
  answer: Record<string, unknown>,
): Statement {
  const { payload } = order;
  const go = key
    ? sql`INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash, response_status, response_body)
          VALUES (${key.tenantId}::uuid, ${key.scope}, ${key.key}, ${key.hash}, 201, ${JSON.stringify(answer)}::jsonb)
          ON CONFLICT (tenant_id, scope, key) DO NOTHING RETURNING 1`
    : sql`SELECT 1`;
  return sql`
    WITH go AS (${go}),
    created AS (
      INSERT INTO orders (id, tenant_id, order_number, customer_id, customer_email, status, total_amount, currency,
        shipping_address, billing_address, created_at, updated_at)
      SELECT ${order.id}::uuid, ${payload.tenantId}::uuid, ${payload.orderNumber}, ${payload.customerId}::uuid, ${payload.customerEmail},
        'pending', ${payload.totalAmount}, ${payload.currency}, ${JSON.stringify(payload.shippingAddress)}::jsonb,
        ${payload.billingAddress ? JSON.stringify(payload.billingAddress) : null}::jsonb, ${order.createdAt}::timestamptz, ${order.createdAt}::timestamptz
      WHERE EXISTS (SELECT 1 FROM go)
      RETURNING id),
    items AS (
      INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
      SELECT gen_random_uuid(), c.id, (i.item->>'productId')::uuid, (i.item->>'quantity')::int, (i.item->>'unitPrice')::bigint
      FROM created c, jsonb_array_elements(${JSON.stringify(order.items)}::jsonb) WITH ORDINALITY AS i(item, n)
      ORDER BY i.n),
    published AS (${publishEvent})
    SELECT EXISTS (SELECT 1 FROM created) AS created`;
}

/** The answer stored under a key already used: replayed for the same body, 409 for another. */
async function replayIdempotent(db: Database, key: IdempotencyScope): Promise<Answer> {
  const [first] = await db.query<{ request_hash: string; response_status: number; response_body: Record<string, unknown> }>(sql`
    SELECT request_hash, response_status, response_body FROM idempotency_keys
    WHERE tenant_id = ${key.tenantId}::uuid AND scope = ${key.scope} AND key = ${key.key}`);
  if (!first) throw new ApiError(503, "TRY_AGAIN", "the request with this Idempotency-Key was rolled back meanwhile; send it again");
  if (first.request_hash !== key.hash) throw conflict("IDEMPOTENCY_KEY_REUSED", `Idempotency-Key ${key.key} was already used with a different request body`);
  return { status: first.response_status, body: first.response_body, replayed: true };
}
