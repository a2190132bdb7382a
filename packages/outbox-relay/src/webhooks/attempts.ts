import { sql, type Queryable } from "../sql/index.ts";

export interface AttemptRecord {
  endpointId: string;
  eventId: string;
  /** The `webhook-id` sent: the event id, or the original's on a resend. */
  webhookId: string;
  /** The attempt's number within its delivery, from 1. */
  attempt: number;
  /** null when no answer came (timeout, connection error, refused address). */
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** The first 4 KiB of the receiver's answer. */
  responseBody: string | null;
}

export interface DisabledEndpoint {
  endpointId: string;
  tenantId: string | null;
  reason: string;
  consecutiveFailures: number;
}

/**
 * recordAttempt: one webhook_attempts row per HTTP attempt, successful or not, in its own autocommit
 * statement (no transaction is open during a delivery). The error is bounded to 2000 characters.
 */
export async function recordAttempt(db: Queryable, record: AttemptRecord): Promise<void> {
  await db.execute(sql`
    INSERT INTO webhook_attempts (id, endpoint_id, event_id, webhook_id, attempt, status_code, duration_ms, error, response_body)
    VALUES (gen_random_uuid(), ${record.endpointId}::uuid, ${record.eventId}::uuid, ${record.webhookId}::uuid, ${record.attempt}, ${record.statusCode},
      ${Math.round(record.durationMs)}, ${record.error?.slice(0, 2000) ?? null}, ${record.responseBody})`);
}

/**
 * recordSuccess: a success ends the endpoint's failure streak. $1 the endpoint. Writes (and locks)
 * nothing when there was no streak, so the common case costs one index probe.
 */
export async function recordSuccess(db: Queryable, endpointId: string): Promise<void> {
  await db.execute(sql`
    UPDATE webhook_endpoints SET consecutive_failures = 0, updated_at = now()
    WHERE id = ${endpointId}::uuid AND consecutive_failures > 0`);
}

/**
 * recordFailure: adds one failed delivery to the endpoint's failure streak and, in the same statement, disables it
 * when the streak reaches `disableAfterFailures` or when `disableNow` gives a reason (410 Gone).
 * $1 the endpoint, $2 the reason to disable now or null, $3 the streak that disables it.
 * One atomic UPDATE, so concurrent deliveries to the endpoint count every failure and only one of
 * them sees the transition to disabled (the `enabled` filter). Returns the endpoint when this call
 * disabled it, else null.
 */
export async function recordFailure(
  db: Queryable,
  endpointId: string,
  { disableAfterFailures, disableNow }: { disableAfterFailures: number; disableNow: string | null },
): Promise<DisabledEndpoint | null> {
  const streakReason = `disabled after ${disableAfterFailures} consecutive failed deliveries`;
  const [row] = await db.query<{ tenant_id: string | null; consecutive_failures: number; enabled: boolean; disabled_reason: string | null }>(sql`
    UPDATE webhook_endpoints
    SET consecutive_failures = consecutive_failures + 1,
        enabled = NOT (${disableNow}::text IS NOT NULL OR consecutive_failures + 1 >= ${disableAfterFailures}),
        disabled_reason = CASE
          WHEN ${disableNow}::text IS NOT NULL THEN ${disableNow}::text
          WHEN consecutive_failures + 1 >= ${disableAfterFailures} THEN ${streakReason}
          ELSE disabled_reason END,
        updated_at = now()
    WHERE id = ${endpointId}::uuid AND enabled
    RETURNING tenant_id::text, consecutive_failures, enabled, disabled_reason`);
  if (!row || row.enabled) return null;
  return { endpointId, tenantId: row.tenant_id, reason: row.disabled_reason ?? streakReason, consecutiveFailures: row.consecutive_failures };
}
