import { query, type Executor } from "../events/index.ts";
import { sql } from "../sql/index.ts";
import { couldOwn, ofTenant, viewColumns, type EndpointView } from "./endpoints.ts";
import { EndpointNotFoundError } from "./errors.ts";

/** closed: sending; open: nothing is sent until `openUntil`; half-open: the next delivery is a probe. */
export type BreakerState = "closed" | "open" | "half-open";

export interface EndpointHealth {
  breaker: { state: BreakerState; openUntil: Date | null };
  consecutiveFailures: number;
  failingSince: Date | null;
  /** To the second: a busy healthy endpoint's row is not rewritten per delivery. */
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  /** Its attempts since `since` (at most the latest `sampleSize`): how many succeeded, and how long they took. */
  recent: {
    since: Date;
    attempts: number;
    succeeded: number;
    /** succeeded / attempts; null without attempts. */
    successRate: number | null;
    latencyP50Ms: number | null;
    latencyP99Ms: number | null;
  };
}

export const endpointHealthDefaults = { windowMs: 24 * 3_600_000, sampleSize: 10_000 } as const;

interface HealthRow extends EndpointView {
  breakerOpenUntil: Date | null;
  breakerState: BreakerState;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  since: Date;
  attempts: number;
  succeeded: number;
  p50: number | null;
  p99: number | null;
}

/**
 * An endpoint of the tenant (null: of no tenant) with its health; EndpointNotFoundError otherwise.
 * One statement: the row by its primary key, and its latest attempts of the window read backwards
 * along webhook_attempts (endpoint_id, created_at, id), so the cost is bounded by `sampleSize`.
 */
export async function endpointHealth(
  db: Executor,
  tenantId: string | null,
  endpointId: string,
  { windowMs = endpointHealthDefaults.windowMs, sampleSize = endpointHealthDefaults.sampleSize }: { windowMs?: number; sampleSize?: number } = {},
): Promise<EndpointView & { health: EndpointHealth }> {
  const [row] = couldOwn(tenantId, endpointId)
    ? await query<HealthRow>(db, sql`
        SELECT ${viewColumns},
          breaker_open_until AS "breakerOpenUntil",
          CASE WHEN breaker_open_until IS NULL THEN 'closed' WHEN breaker_open_until > now() THEN 'open' ELSE 'half-open' END AS "breakerState",
          last_success_at AS "lastSuccessAt", last_failure_at AS "lastFailureAt",
          now() - ${windowMs} * interval '1 millisecond' AS since,
          recent.attempts, recent.succeeded, recent.p50, recent.p99
        FROM webhook_endpoints e
        CROSS JOIN LATERAL (
          SELECT count(*)::int AS attempts,
            (count(*) FILTER (WHERE status_code BETWEEN 200 AND 299))::int AS succeeded,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p99
          FROM (
            SELECT a.status_code, a.duration_ms FROM webhook_attempts a
            WHERE a.endpoint_id = e.id AND a.created_at >= now() - ${windowMs} * interval '1 millisecond'
            ORDER BY a.created_at DESC
            LIMIT ${sampleSize}
          ) latest
        ) recent
        WHERE e.id = ${endpointId}::uuid AND ${ofTenant(tenantId)}`)
    : [];
  if (!row) throw new EndpointNotFoundError(endpointId);
  const { breakerOpenUntil, breakerState, lastSuccessAt, lastFailureAt, since, attempts, succeeded, p50, p99, ...endpoint } = row;
  const health: EndpointHealth = {
    breaker: { state: breakerState, openUntil: breakerOpenUntil },
    consecutiveFailures: endpoint.consecutiveFailures,
    failingSince: endpoint.failingSince,
    lastSuccessAt,
    lastFailureAt,
    recent: {
      since,
      attempts,
      succeeded,
      successRate: attempts === 0 ? null : succeeded / attempts,
      latencyP50Ms: p50 === null ? null : Math.round(p50),
      latencyP99Ms: p99 === null ? null : Math.round(p99),
    },
  };
  return { ...endpoint, health };
}
