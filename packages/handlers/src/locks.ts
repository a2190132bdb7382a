import { sql, type Queryable } from "@outbox/sql";
import { requireEach, uuidsOf } from "./ids.ts";

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
  amount: number;
}

/**
 * lockOrders: $1 the orders' ids. The first lock of every order handler, FOR UPDATE in id order
 * (the lock order is orders, then payments, then products, each by id), so batches that share
 * orders wait for each other instead of deadlocking, and no order changes under its handler.
 * A missing order is a PermanentError.
 */
export async function lockOrders(tx: Queryable, orderIds: readonly string[]): Promise<Map<string, LockedOrder>> {
  const rows = await tx.query<LockedOrder>(sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId", status, order_number AS "orderNumber",
      customer_email AS "customerEmail", currency
    FROM orders WHERE id = ANY(${uuidsOf(orderIds)}::uuid[])
    ORDER BY id FOR UPDATE`);
  return requireEach("order", orderIds, rows);
}

/**
 * lockPayments: $1 the payments' ids. FOR UPDATE in id order, after the orders (the lock order),
 * so a payment settles or expires once. A missing payment is a PermanentError.
 */
export async function lockPayments(tx: Queryable, paymentIds: readonly string[]): Promise<Map<string, LockedPayment>> {
  const rows = await tx.query<LockedPayment>(sql`
    SELECT id::text AS id, status, amount FROM payments
    WHERE id = ANY(${uuidsOf(paymentIds)}::uuid[])
    ORDER BY id FOR UPDATE`);
  return requireEach("payment", paymentIds, rows);
}
