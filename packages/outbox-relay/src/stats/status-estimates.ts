import { sql, type Queryable } from "../sql/index.ts";

export interface StatusEstimates {
  /** The table's row count as the planner reads it. */
  tableRows: number;
  /** Rows per status from the status column's most-common-value frequencies; absent when unknown. */
  byStatus: Partial<Record<string, number>>;
}

interface EstimateRow {
  table_rows: number | null;
  shares: Record<string, number> | null;
}

/**
 * estimateStatuses: rows per status from the planner's statistics, catalog reads only (no table
 * scan). The table's row count is pg_class.reltuples scaled by the relation's current size in
 * pages, the way the planner reads it (so it follows growth between ANALYZE runs); before the first
 * ANALYZE, pg_stat_user_tables.n_live_tup. Each status' share is its frequency among pg_stats'
 * most common values of event_outbox.status (a status too rare to be listed has no estimate).
 */
export async function estimateStatuses(db: Queryable): Promise<StatusEstimates> {
  const [row] = await db.query<EstimateRow>(sql`
    SELECT
      (SELECT CASE
         WHEN c.reltuples >= 0 AND c.relpages > 0
           THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int)
         WHEN c.reltuples >= 0 THEN c.reltuples
         ELSE (SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = c.oid)
       END::float8
       FROM pg_class c WHERE c.oid = 'event_outbox'::regclass) AS table_rows,
      (SELECT jsonb_object_agg(m.val, m.freq)
       FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS m(val, freq)
       WHERE s.tablename = 'event_outbox' AND s.attname = 'status' AND s.schemaname = current_schema()) AS shares`);
  const tableRows = Math.max(0, row?.table_rows ?? 0);
  const byStatus = Object.fromEntries(Object.entries(row?.shares ?? {}).map(([status, share]) => [status, Math.round(tableRows * share)]));
  return { tableRows, byStatus };
}
