import { type Queryable, sql } from "outbox-relay";
import { moneyFrom, paymentStatus } from "@outbox/domain";

export interface RefundRequest {
  orderId: string;
  tenantId: string;
  reason: string;
  /** Refund only this payment of the order; every completed one when left out. */
  paymentId?: string;
}

export interface MadeRefund {
  orderId: string;
  paymentId: string;
  amount: number;
}

/**
 * refundCompletedPayments: $1 the requests as JSON [{orderId, tenantId, reason, paymentId?}].
 * Refunds every completed payment of the orders (or the one named) that has no refund yet, and
 * returns the refunds made. refunds.payment_id is unique, so a payment is refunded at most once.
 * It takes no lock of its own: the handler holds the orders' locks, which every settlement of
 * their payments takes first; the foreign key check key-share locks the payments, in id order.
 */
export async function refundCompletedPayments(tx: Queryable, requests: readonly RefundRequest[]): Promise<MadeRefund[]> {
  if (requests.length === 0) return [];
  const made = await tx.query<Omit<MadeRefund, "amount"> & { amount: string }>(sql`
    INSERT INTO refunds (id, tenant_id, order_id, payment_id, amount, reason)
    SELECT gen_random_uuid(), r."tenantId", p.order_id, p.id, p.amount, r.reason
    FROM jsonb_to_recordset(${JSON.stringify(requests)}::jsonb) AS r("orderId" uuid, "tenantId" uuid, reason text, "paymentId" uuid)
    JOIN payments p ON p.order_id = r."orderId" AND (r."paymentId" IS NULL OR p.id = r."paymentId")
    WHERE p.status = ${paymentStatus.completed} AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.payment_id = p.id)
    ORDER BY p.id
    ON CONFLICT (payment_id) DO NOTHING
    RETURNING order_id::text AS "orderId", payment_id::text AS "paymentId", amount`);
  return made.map((refund) => ({ ...refund, amount: moneyFrom(refund.amount) }));
}

/** The refunded amount per key (order or payment id) of the refunds made. */
export function refundedBy(refunds: readonly MadeRefund[], keyOf: (refund: MadeRefund) => string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const refund of refunds) totals.set(keyOf(refund), (totals.get(keyOf(refund)) ?? 0) + refund.amount);
  return totals;
}
