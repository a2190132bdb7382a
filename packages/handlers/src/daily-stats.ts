import { type AtCommit, type Queryable, sql } from "outbox-relay";

export interface DailyStatsDelta {
  ordersCreated?: number;
  ordersCancelled?: number;
  grossAmount?: number;
  paymentsCompleted?: number;
  paymentsFailed?: number;
  paymentsAmount?: number;
  refundsAmount?: number;
}

/** What one event adds to its tenant's counters, on the UTC day of the event's own time. */
export interface DailyStatsBump {
  tenantId: string;
  at: Date | string;
  delta: DailyStatsDelta;
}

const zero: Required<DailyStatsDelta> = {
  ordersCreated: 0,
  ordersCancelled: 0,
  grossAmount: 0,
  paymentsCompleted: 0,
  paymentsFailed: 0,
  paymentsAmount: 0,
  refundsAmount: 0,
};

/** The UTC calendar day of a moment, as the `date` column stores it. */
export function utcDay(at: Date | string): string {
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * writeDailyStats: $1 the bumps as one JSON array. Sums them per (tenant, day) first (an upsert
 * cannot touch a row twice), then adds the sums to the counters, creating a day's row on first
 * use; two transactions bumping the same day never lose a count. Rows are written in key order,
 * so batches bumping the same days lock them in the same order. The day comes from the event's own
 * time, so a re-run of the event counts on the same day. Money counters are bigint (a day's gross
 * passes 2^31 cents easily); their sums are cast back to bigint (sum(bigint) is numeric).
 */
async function writeDailyStats(tx: Queryable, bumps: DailyStatsBump[]): Promise<void> {
  if (bumps.length === 0) return;
  const rows = bumps.map(({ tenantId, at, delta }) => ({ ...zero, ...delta, tenantId, day: utcDay(at) }));
  await tx.execute(sql`
    INSERT INTO tenant_daily_stats AS s (tenant_id, day, orders_created, orders_cancelled, gross_amount,
      payments_completed, payments_failed, payments_amount, refunds_amount)
    SELECT b."tenantId", b.day, sum(b."ordersCreated"), sum(b."ordersCancelled"), sum(b."grossAmount")::bigint,
      sum(b."paymentsCompleted"), sum(b."paymentsFailed"), sum(b."paymentsAmount")::bigint, sum(b."refundsAmount")::bigint
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS b("tenantId" uuid, day date, "ordersCreated" int,
      "ordersCancelled" int, "grossAmount" bigint, "paymentsCompleted" int, "paymentsFailed" int, "paymentsAmount" bigint, "refundsAmount" bigint)
    GROUP BY b."tenantId", b.day
    ORDER BY b."tenantId", b.day
    ON CONFLICT (tenant_id, day) DO UPDATE SET
      orders_created = s.orders_created + EXCLUDED.orders_created,
      orders_cancelled = s.orders_cancelled + EXCLUDED.orders_cancelled,
      gross_amount = s.gross_amount + EXCLUDED.gross_amount,
      payments_completed = s.payments_completed + EXCLUDED.payments_completed,
      payments_failed = s.payments_failed + EXCLUDED.payments_failed,
      payments_amount = s.payments_amount + EXCLUDED.payments_amount,
      refunds_amount = s.refunds_amount + EXCLUDED.refunds_amount`);
}

/**
 * Counts the bumps in their tenants' daily rows when the commit group commits, in one statement
 * with every other handler's bumps of the group (the processor's atCommit). A tenant's row is hot:
 * every order, cancel and payment of the day updates it. Written last, its lock is held only for
 * the commit and never while another lock is awaited (bumping it mid-transaction deadlocked with
 * product locks under load: 397 deadlocks in 6 minutes of the soak with one busy tenant).
 */
export function bumpDailyStats(context: { atCommit: AtCommit }, bumps: readonly DailyStatsBump[]): void {
  context.atCommit("daily-stats", bumps, writeDailyStats);
}
