import type { Tx } from "@outbox/db";

export interface DailyStatsDelta {
  ordersCreated?: number;
  ordersCancelled?: number;
  grossAmount?: number;
  paymentsCompleted?: number;
  paymentsFailed?: number;
  paymentsAmount?: number;
  refundsAmount?: number;
}

/** The UTC calendar day of a moment, as the `date` column stores it. */
export function utcDay(at: Date | string): string {
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * bumpDailyStats: adds to a tenant's counters for one UTC day, creating the day's row on first use.
 * One INSERT ... ON CONFLICT statement, so two transactions bumping the same day never lose a count.
 * The day comes from the event's own time, so a re-run of the event counts on the same day.
 */
export async function bumpDailyStats(tx: Tx, tenantId: string, at: Date | string, delta: DailyStatsDelta): Promise<void> {
  const d = { ordersCreated: 0, ordersCancelled: 0, grossAmount: 0, paymentsCompleted: 0, paymentsFailed: 0, paymentsAmount: 0, refundsAmount: 0, ...delta };
  await tx.$executeRaw`
    INSERT INTO tenant_daily_stats AS s (tenant_id, day, orders_created, orders_cancelled, gross_amount,
      payments_completed, payments_failed, payments_amount, refunds_amount)
    VALUES (${tenantId}::uuid, ${utcDay(at)}::date, ${d.ordersCreated}, ${d.ordersCancelled}, ${d.grossAmount},
      ${d.paymentsCompleted}, ${d.paymentsFailed}, ${d.paymentsAmount}, ${d.refundsAmount})
    ON CONFLICT (tenant_id, day) DO UPDATE SET
      orders_created = s.orders_created + EXCLUDED.orders_created,
      orders_cancelled = s.orders_cancelled + EXCLUDED.orders_cancelled,
      gross_amount = s.gross_amount + EXCLUDED.gross_amount,
      payments_completed = s.payments_completed + EXCLUDED.payments_completed,
      payments_failed = s.payments_failed + EXCLUDED.payments_failed,
      payments_amount = s.payments_amount + EXCLUDED.payments_amount,
      refunds_amount = s.refunds_amount + EXCLUDED.refunds_amount`;
}
