import { PermanentError, type Queryable, sql } from "outbox-relay";

export interface StockLine {
  productId: string;
  quantity: number;
}

export interface ReservedLine extends StockLine {
  orderId: string;
}

export interface ProductStock {
  tenantId: string;
  stock: number;
}

export interface ItemsAndStock {
  /** Each order's quantities per product, in product id order. */
  lines: Map<string, StockLine[]>;
  /** The locked stock of every product the orders name. */
  products: Map<string, ProductStock>;
}

interface ItemRow extends ReservedLine, ProductStock {}

/**
 * lockItemsAndProducts: $1 the orders' ids (locked already). Their items, and every product they
 * name locked FOR NO KEY UPDATE in product id order (after the orders: the domain's lock order,
 * docs/locking.md), so two batches sharing products lock them in the same order and the stock read
 * here holds until the commit, while the API's inserts of order items (key-share locks on the
 * products) never wait on them. An order without items is a PermanentError.
 */
export async function lockItemsAndProducts(tx: Queryable, orderIds: readonly string[]): Promise<ItemsAndStock> {
  const rows = await tx.query<ItemRow>(sql`
    SELECT i.order_id::text AS "orderId", p.id::text AS "productId", i.quantity, p.tenant_id::text AS "tenantId", p.stock
    FROM order_items i JOIN products p ON p.id = i.product_id
    WHERE i.order_id = ANY(${orderIds}::uuid[])
    ORDER BY p.id FOR NO KEY UPDATE OF p`);
  const lines = new Map<string, Map<string, number>>();
  const products = new Map<string, ProductStock>();
  for (const row of rows) {
    const order = lines.get(row.orderId) ?? new Map<string, number>();
    lines.set(row.orderId, order.set(row.productId, (order.get(row.productId) ?? 0) + row.quantity));
    products.set(row.productId, { tenantId: row.tenantId, stock: row.stock });
  }
  const empty = orderIds.find((id) => !lines.has(id));
  if (empty) throw new PermanentError(`order ${empty} has no items`);
  const asLines = (quantities: Map<string, number>) => [...quantities].map(([productId, quantity]) => ({ productId, quantity }));
  return { lines: new Map([...lines].map(([orderId, quantities]) => [orderId, asLines(quantities)])), products };
}

/**
 * reserveStock: $1 the reservations as JSON [{orderId, productId, quantity}]. Takes each product's
 * total from its stock and records every reservation, in one statement. The products are locked
 * and were checked (lockItemsAndProducts, allocateStock); the `stock >= quantity` guard can never
 * make stock negative, and a product it skips means a bug: throwing rolls everything back.
 */
export async function reserveStock(tx: Queryable, reservations: readonly ReservedLine[]): Promise<void> {
  if (reservations.length === 0) return;
  const products = new Set(reservations.map((line) => line.productId)).size;
  const [counts] = await tx.query<{ taken: number; reserved: number }>(sql`
    WITH wanted AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(reservations)}::jsonb) AS r("orderId" uuid, "productId" uuid, quantity int)),
    taken AS (
      UPDATE products p SET stock = p.stock - t.quantity, updated_at = now()
      FROM (SELECT "productId", sum(quantity)::int AS quantity FROM wanted GROUP BY "productId") t
      WHERE p.id = t."productId" AND p.stock >= t.quantity
      RETURNING p.id),
    reserved AS (
      INSERT INTO stock_reservations (order_id, product_id, quantity)
      SELECT "orderId", "productId", quantity FROM wanted
      RETURNING 1)
    SELECT (SELECT count(*) FROM taken)::int AS taken, (SELECT count(*) FROM reserved)::int AS reserved`);
  if (counts?.taken !== products || counts.reserved !== reservations.length) {
    throw new Error(`stock changed under its lock: took ${counts?.taken} of ${products} products, ${counts?.reserved} of ${reservations.length} reservations`);
  }
}

/**
 * releaseReservations: $1 the orders' ids (locked already). Marks their open reservations released
 * and puts the quantities back, in one statement: a reservation is released once (released_at),
 * and `locked` takes the products FOR NO KEY UPDATE in id order (the lock order) before `restocked`
 * writes them, since the update reaches a product only through its locked row. Returns what was
 * released, by order, in product id order.
 */
export async function releaseReservations(tx: Queryable, orderIds: readonly string[]): Promise<ReservedLine[]> {
  return tx.query<ReservedLine>(sql`
    WITH released AS (
      UPDATE stock_reservations SET released_at = now()
      WHERE order_id = ANY(${orderIds}::uuid[]) AND released_at IS NULL
      RETURNING order_id, product_id, quantity),
    totals AS (SELECT product_id, sum(quantity)::int AS quantity FROM released GROUP BY product_id),
    locked AS MATERIALIZED (
      SELECT id FROM products WHERE id IN (SELECT product_id FROM totals) ORDER BY id FOR NO KEY UPDATE),
    restocked AS (
      UPDATE products p SET stock = p.stock + t.quantity, updated_at = now()
      FROM locked l JOIN totals t ON t.product_id = l.id
      WHERE p.id = l.id)
    SELECT order_id::text AS "orderId", product_id::text AS "productId", quantity
    FROM released ORDER BY order_id, product_id`);
}
