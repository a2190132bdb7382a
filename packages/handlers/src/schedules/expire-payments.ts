import { orderEvents } from "@outbox/domain";
import { type Connection, type Database, sql } from "outbox-relay";

export interface ExpirePaymentsOptions {
  /** PAYMENT_EXPIRY_AFTER_MS: a payment pending longer than this expires. */
  expireAfterMs?: number;
  /** Payments expired per transaction. */
  batchSize?: number;
}

interface ExpiredPayment {
  id: string;
  order_id: string;
  tenant_id: string;
}

/**
 * expirePayments: every payment still `pending` that was opened before `now - expireAfterMs`
 * becomes `expired` (expired_at = now), and its PaymentExpired event is published in the same
 * transaction, so the status change and the event exist together or not at all. Works in batches
 * until a batch comes back short. Running it again finds nothing: only pending rows qualify.
 * Returns the ids of the payments it expired.
 */
export async function expirePayments(
  db: Database,
  now: Date = new Date(),
  { expireAfterMs = 30 * 60_000, batchSize = 500 }: ExpirePaymentsOptions = {},
): Promise<string[]> {
  const cutoff = new Date(now.getTime() - expireAfterMs);
  const expired: string[] = [];
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const rows = await expireDuePayments(tx, cutoff, batchSize, now);
      await orderEvents.publishMany(
        tx,
        rows.map((row) => ({
          type: "PaymentExpired" as const,
          payload: { paymentId: row.id, orderId: row.order_id, tenantId: row.tenant_id, expiredAt: now.toISOString() },
        })),
      );
      return rows;
    });
    expired.push(...batch.map((row) => row.id));
    if (batch.length < batchSize) return expired;
  }
}

/**
 * expireDuePayments: $1 cutoff, $2 batch size, $3 the expiry time.
 * FOR UPDATE SKIP LOCKED: a payment that the API is completing right now (it holds the row)
 * is passed over, not waited for; if it is still pending at the next tick it expires then.
 * The UPDATE re-checks status = 'pending' on the locked row, so a payment that moved on
 * between the read and the lock is never expired. Reads payments(status, created_at).
 */
function expireDuePayments(tx: Connection, cutoff: Date, batchSize: number, now: Date): Promise<ExpiredPayment[]> {
  return tx.query<ExpiredPayment>(sql`
    WITH due AS (
      SELECT id FROM payments
      WHERE status = 'pending' AND created_at <= ${cutoff}
      ORDER BY created_at
      LIMIT ${batchSize}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE payments p SET status = 'expired', expired_at = ${now}
    FROM due
    WHERE p.id = due.id AND p.status = 'pending'
    RETURNING p.id::text, p.order_id::text, p.tenant_id::text`);
}
