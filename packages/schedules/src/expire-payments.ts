import type { PrismaClient } from "@outbox/db";
import { publishMany } from "@outbox/outbox";

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
  prisma: PrismaClient,
  now: Date = new Date(),
  { expireAfterMs = 30 * 60_000, batchSize = 500 }: ExpirePaymentsOptions = {},
): Promise<string[]> {
  const cutoff = new Date(now.getTime() - expireAfterMs);
  const expired: string[] = [];
  for (;;) {
    const batch = await prisma.$transaction(async (tx) => {
      // expireDuePayments: $1 cutoff, $2 batch size, $3 the expiry time.
      // FOR UPDATE SKIP LOCKED: a payment that the API is completing right now (it holds the row)
      // is passed over, not waited for; if it is still pending at the next tick it expires then.
      // The UPDATE re-checks status = 'pending' on the locked row, so a payment that moved on
      // between the read and the lock is never expired. Reads payments(status, created_at).
      const rows = await tx.$queryRaw<ExpiredPayment[]>`
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
        RETURNING p.id::text, p.order_id::text, p.tenant_id::text`;
      await publishMany(
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
