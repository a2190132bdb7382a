import { moneyFrom } from "@outbox/domain";
import { type Database, sql } from "outbox-relay";

export interface SettlementRow {
  tenantId: string;
  day: string;
  orders: number;
  grossAmount: number;
  paymentsCompleted: number;
  refundsAmount: number;
  netAmount: number;
}

type MoneyAsText<T> = { [K in keyof T]: K extends "grossAmount" | "refundsAmount" | "netAmount" ? string : T[K] };

function settlementRow(row: MoneyAsText<SettlementRow>): SettlementRow {
  return { ...row, grossAmount: moneyFrom(row.grossAmount), refundsAmount: moneyFrom(row.refundsAmount), netAmount: moneyFrom(row.netAmount) };
}

/** The UTC day before `at`, as YYYY-MM-DD: the day a settlement tick at `at` reports on. */
export function previousUtcDay(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - 1));
  return day.toISOString().slice(0, 10);
}

/**
 * buildSettlement: the settlement report of one UTC day, per tenant, computed from the source
 * tables (never from the handlers' counters, so a lost or doubled counter cannot skew it):
 * - orders, grossAmount: orders created that day, except `rejected` ones (never accepted);
 * - paymentsCompleted: payments that completed that day (processed_at), and their amount;
 * - refundsAmount: refunds created that day;
 * - netAmount: completed payment amount minus refunds.
 * Upserted into settlement_reports, and a tenant's stale row for the day (its figures went to
 * nothing since the last run) is removed, all in one transaction: running it twice for a day
 * leaves the same report. Returns the rows written. Money sums are bigint (sum(bigint) is numeric,
 * cast back); pg returns bigint as a string, read with moneyFrom.
 */
export async function buildSettlement(db: Database, day: string): Promise<SettlementRow[]> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new TypeError(`day must be YYYY-MM-DD, got ${day}`);
  const from = new Date(`${day}T00:00:00.000Z`);
  const to = new Date(from.getTime() + 24 * 3600_000);
  return db.transaction(async (tx) => {
    // upsertSettlement: $1 day start, $2 next day start (UTC), $3 the day.
    // Reads orders(tenant_id, created_at), payments and refunds(tenant_id, created_at) under the
    // statement's snapshot, without locks; the upsert locks only this day's report rows.
    const written = await tx.query<MoneyAsText<SettlementRow>>(sql`
      WITH day_orders AS (
        SELECT tenant_id, count(*)::int AS orders, coalesce(sum(total_amount), 0)::bigint AS gross
        FROM orders WHERE created_at >= ${from} AND created_at < ${to} AND status <> 'rejected'
        GROUP BY tenant_id
      ), day_payments AS (
        SELECT tenant_id, count(*)::int AS completed, coalesce(sum(amount), 0)::bigint AS amount
        FROM payments WHERE status = 'completed' AND processed_at >= ${from} AND processed_at < ${to}
        GROUP BY tenant_id
      ), day_refunds AS (
        SELECT tenant_id, coalesce(sum(amount), 0)::bigint AS amount
        FROM refunds WHERE created_at >= ${from} AND created_at < ${to}
        GROUP BY tenant_id
      ), tenants AS (
        SELECT tenant_id FROM day_orders UNION SELECT tenant_id FROM day_payments UNION SELECT tenant_id FROM day_refunds
      )
      INSERT INTO settlement_reports AS r
        (tenant_id, day, orders, gross_amount, payments_completed, refunds_amount, net_amount, generated_at)
      SELECT t.tenant_id, ${day}::date, coalesce(o.orders, 0), coalesce(o.gross, 0), coalesce(p.completed, 0),
        coalesce(f.amount, 0), coalesce(p.amount, 0) - coalesce(f.amount, 0), now()
      FROM tenants t
      LEFT JOIN day_orders o ON o.tenant_id = t.tenant_id
      LEFT JOIN day_payments p ON p.tenant_id = t.tenant_id
      LEFT JOIN day_refunds f ON f.tenant_id = t.tenant_id
      ON CONFLICT (tenant_id, day) DO UPDATE SET
        orders = EXCLUDED.orders, gross_amount = EXCLUDED.gross_amount,
        payments_completed = EXCLUDED.payments_completed, refunds_amount = EXCLUDED.refunds_amount,
        net_amount = EXCLUDED.net_amount, generated_at = EXCLUDED.generated_at
      RETURNING r.tenant_id::text AS "tenantId", to_char(r.day, 'YYYY-MM-DD') AS day, r.orders,
        r.gross_amount AS "grossAmount", r.payments_completed AS "paymentsCompleted",
        r.refunds_amount AS "refundsAmount", r.net_amount AS "netAmount"`);
    const rows = written.map(settlementRow);
    // removeStaleSettlement: $1 the day, $2 tenants reported above. Locks only the rows it deletes.
    await tx.execute(sql`
      DELETE FROM settlement_reports
      WHERE day = ${day}::date AND NOT (tenant_id::text = ANY(${rows.map((row) => row.tenantId)}::text[]))`);
    return rows.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  });
}
