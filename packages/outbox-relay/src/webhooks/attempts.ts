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
  url: string;
  reason: string;
  consecutiveFailures: number;
  disabledAt: Date;
  /** The first failure of the streak that disabled it; null for a 410 Gone on a healthy endpoint. */
  failingSince: Date | null;
}

/** When an endpoint stops being sent to: its circuit breaker, and how long failing disables it. */
export interface FailurePolicy {
  /** Consecutive failed attempts that open the breaker; each reopening waits twice as long, `cooldownMs` up to `maxCooldownMs`. */
  breaker: { failures: number; cooldownMs: number; maxCooldownMs: number };
  /** An endpoint whose attempts have all failed for this long is disabled. */
  disableAfterMs: number;
}

export interface RecordedFailure {
  /** Set when this failure disabled the endpoint. */
  disabled: DisabledEndpoint | null;
  /** Set when the breaker is open after this failure: no delivery is sent before it. */
  breakerOpenUntil: Date | null;
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
 * recordSuccess: a success ends the endpoint's failure streak and closes its breaker. $1 the
 * endpoint. Writes (and locks) nothing when there was no streak and the last success is recorded
 * to the second, so a busy healthy endpoint costs an index probe per delivery, not a row update.
 */
export async function recordSuccess(db: Queryable, endpointId: string): Promise<void> {
  await db.execute(sql`
    UPDATE webhook_endpoints
    SET consecutive_failures = 0, failing_since = NULL, breaker_open_until = NULL, breaker_trips = 0, last_success_at = now(), updated_at = now()
    WHERE id = ${endpointId}::uuid
      AND (consecutive_failures > 0 OR breaker_open_until IS NOT NULL OR last_success_at IS NULL OR last_success_at < now() - interval '1 second')`);
}

/**
 * recordFailure: one failed attempt. Adds it to the endpoint's streak (failing_since marks its
 * start); at `breaker.failures` in a row opens the breaker for the cooldown (doubled per trip,
 * capped; a failed probe reopens it); disables the endpoint when `disableNow` gives a reason (410 Gone) or the streak has
 * lasted `disableAfterMs` with no gap as long between its failures (a low-traffic endpoint that
 * failed last week and fails again today starts a new streak). One atomic UPDATE under the row's lock, so concurrent attempts count
 * every failure and only one of them sees the transition to disabled (the `enabled` filter).
 */
export async function recordFailure(
  db: Queryable,
  endpointId: string,
  policy: FailurePolicy,
  { disableNow, probe }: { disableNow: string | null; probe: boolean },
): Promise<RecordedFailure> {
  const { failures, cooldownMs, maxCooldownMs } = policy.breaker;
  // Attempts already under way when the breaker opened do not open it again; a failed probe does.
  const tripped = sql`(consecutive_failures + 1 >= ${failures} AND (${probe}::boolean OR breaker_open_until IS NULL OR breaker_open_until <= now()))`;
  const window = sql`now() - ${policy.disableAfterMs} * interval '1 millisecond'`;
  // Failing all along: the streak began a window ago, and its last failure before this one is within it.
  const failingTooLong = sql`coalesce(failing_since <= ${window} AND last_failure_at >= ${window}, false)`;
  // A failure after a quiet spell longer than the window starts a new streak.
  const streakStart = sql`CASE WHEN failing_since IS NULL OR last_failure_at < ${window} THEN now() ELSE failing_since END`;
  const disable = sql`(${disableNow}::text IS NOT NULL OR ${failingTooLong})`;
  const [row] = await db.query<{ tenantId: string | null; url: string; consecutiveFailures: number; enabled: boolean; disabledReason: string | null; disabledAt: Date | null; failingSince: Date | null; breakerOpenUntil: Date | null }>(sql`
    UPDATE webhook_endpoints
    SET consecutive_failures = consecutive_failures + 1,
        failing_since = ${streakStart},
        last_failure_at = now(),
        breaker_trips = CASE WHEN ${tripped} THEN breaker_trips + 1 ELSE breaker_trips END,
        breaker_open_until = CASE WHEN ${tripped}
          THEN now() + least(${maxCooldownMs}::float8, ${cooldownMs}::float8 * power(2, least(breaker_trips, 30))) * interval '1 millisecond'
          ELSE breaker_open_until END,
        enabled = NOT ${disable},
        disabled_at = CASE WHEN ${disable} THEN now() ELSE disabled_at END,
        disabled_reason = CASE
          WHEN ${disableNow}::text IS NOT NULL THEN ${disableNow}::text
          WHEN ${failingTooLong} THEN 'every attempt has failed since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
          ELSE disabled_reason END,
        updated_at = now()
    WHERE id = ${endpointId}::uuid AND enabled
    RETURNING tenant_id::text AS "tenantId", url, consecutive_failures AS "consecutiveFailures", enabled, disabled_reason AS "disabledReason",
      disabled_at AS "disabledAt", failing_since AS "failingSince", breaker_open_until AS "breakerOpenUntil"`);
  if (!row) return { disabled: null, breakerOpenUntil: null };
  const disabled = row.enabled
    ? null
    : { endpointId, tenantId: row.tenantId, url: row.url, reason: row.disabledReason!, consecutiveFailures: row.consecutiveFailures, disabledAt: row.disabledAt!, failingSince: disableNow ? null : row.failingSince };
  return { disabled, breakerOpenUntil: row.breakerOpenUntil };
}

/**
 * claimProbe: the breaker's cooldown is over: this delivery may be the one probe. $1 the endpoint,
 * $2 how long the probe holds the breaker (its timeout and a margin), so that the other deliveries
 * keep waiting while it runs. True for the one caller that moved the time, false for the others.
 */
export async function claimProbe(db: Queryable, endpointId: string, holdMs: number): Promise<boolean> {
  const changed = await db.execute(sql`
    UPDATE webhook_endpoints SET breaker_open_until = now() + ${holdMs} * interval '1 millisecond'
    WHERE id = ${endpointId}::uuid AND breaker_open_until IS NOT NULL AND breaker_open_until <= now()`);
  return changed === 1;
}
