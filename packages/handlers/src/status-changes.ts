import { type Queryable, sql } from "outbox-relay";
import type { OrderStatus, PaymentStatus } from "@outbox/domain";

export interface OrderChange {
  id: string;
  status: OrderStatus;
  reason: string | null;
}

export interface PaymentChange {
  id: string;
  status: PaymentStatus;
  processedAt?: string;
  expiredAt?: string;
}

/** One change per row: a later change of the same row replaces an earlier one, as it would one at a time. */
function lastPerId<T extends { id: string }>(changes: readonly T[]): T[] {
  return [...new Map(changes.map((change) => [change.id, change])).values()];
}

/**
 * setOrderStatuses: $1 the changes as JSON [{id, status, reason}], one per order. The orders are
 * locked already (lockOrders), so the UPDATE takes no new lock; every one must be there.
 */
export async function setOrderStatuses(tx: Queryable, changes: readonly OrderChange[]): Promise<void> {
  const rows = lastPerId(changes);
  if (rows.length === 0) return;
  const updated = await tx.execute(sql`
    UPDATE orders o SET status = c.status, status_reason = c.reason, updated_at = now()
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS c(id uuid, status text, reason text)
    WHERE o.id = c.id`);
  if (updated !== rows.length) throw new Error(`updated ${updated} of ${rows.length} locked orders`);
}

/**
 * setPaymentStatuses: $1 the changes as JSON [{id, status, processedAt?, expiredAt?}], one per
 * payment; a time left out keeps the column's value. The payments are locked already (lockPayments).
 */
export async function setPaymentStatuses(tx: Queryable, changes: readonly PaymentChange[]): Promise<void> {
  const rows = lastPerId(changes);
  if (rows.length === 0) return;
  const updated = await tx.execute(sql`
    UPDATE payments p SET status = c.status,
      processed_at = coalesce(c."processedAt", p.processed_at), expired_at = coalesce(c."expiredAt", p.expired_at)
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS c(id uuid, status text, "processedAt" timestamptz, "expiredAt" timestamptz)
    WHERE p.id = c.id`);
  if (updated !== rows.length) throw new Error(`updated ${updated} of ${rows.length} locked payments`);
}
