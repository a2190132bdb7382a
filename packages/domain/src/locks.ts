import { type Queryable, sql } from "outbox-relay";
import { moneyFrom } from "./money.ts";

/**
 * The one lock order of the order domain (docs/locking.md): orders, then payments, then products,
 * each set in id order, each row FOR NO KEY UPDATE. No transaction, the API's or a handler's, takes
 * a row of an earlier kind after a later one, so none can wait in a cycle. NO KEY UPDATE (not FOR
 * UPDATE): the key-share locks that inserting an order's items or a payment takes on the products
 * or the order they reference never wait on these, nor these on them.
 */

export interface LockedOrder {
  id: string;
  tenantId: string;
  status: string;
  orderNumber: string;
  customerEmail: string;
  currency: string;
}

export interface LockedPayment {
  id: string;
  status: string;
  /** Minor units (the bigint column, read as a number by moneyFrom). */
  amount: number;
}

export interface LockedProduct {
  id: string;
  tenantId: string;
  stock: number;
}

/** lockOrders: $1 the orders' ids. The first lock of any transaction that locks orders. */
export async function lockOrders(tx: Queryable, orderIds: readonly string[]): Promise<LockedOrder[]> {
  return tx.query<LockedOrder>(sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId", status, order_number AS "orderNumber",
      customer_email AS "customerEmail", currency
    FROM orders WHERE id = ANY(${orderIds}::uuid[])
    ORDER BY id FOR NO KEY UPDATE`);
}

/** lockPayments: $1 the payments' ids. After the orders, before the products. */
export async function lockPayments(tx: Queryable, paymentIds: readonly string[]): Promise<LockedPayment[]> {
  const rows = await tx.query<Omit<LockedPayment, "amount"> & { amount: string }>(sql`
    SELECT id::text AS id, status, amount FROM payments
    WHERE id = ANY(${paymentIds}::uuid[])
    ORDER BY id FOR NO KEY UPDATE`);
  return rows.map((row) => ({ ...row, amount: moneyFrom(row.amount) }));
}

/** lockProducts: $1 the products' ids. The last kind in the lock order. */
export async function lockProducts(tx: Queryable, productIds: readonly string[]): Promise<LockedProduct[]> {
  return tx.query<LockedProduct>(sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId", stock FROM products
    WHERE id = ANY(${productIds}::uuid[])
    ORDER BY id FOR NO KEY UPDATE`);
}
