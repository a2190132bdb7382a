import type { PrismaClient } from "@outbox/db";

export interface AttemptRecord {
  endpointId: string;
  eventId: string;
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface DisabledEndpoint {
  endpointId: string;
  tenantId: string;
  reason: string;
  consecutiveFailures: number;
}

/** One row per HTTP attempt, successful or not, written on its own (no transaction is open). */
export async function recordAttempt(prisma: PrismaClient, record: AttemptRecord): Promise<void> {
  await prisma.webhookAttempt.create({ data: { ...record, error: record.error?.slice(0, 2000) ?? null } });
}

/** A success ends the endpoint's failure streak. Writes nothing when there was none. */
export async function recordSuccess(prisma: PrismaClient, endpointId: string): Promise<void> {
  await prisma.webhookEndpoint.updateMany({ where: { id: endpointId, consecutiveFailures: { gt: 0 } }, data: { consecutiveFailures: 0 } });
}

/**
 * recordFailure: adds one failed delivery to the endpoint's failure streak and, in the same statement, disables it
 * when the streak reaches `disableAfterFailures` or when `disableNow` gives a reason (410 Gone).
 * One atomic UPDATE, so concurrent deliveries to the endpoint count every failure and only one of
 * them sees the transition to disabled (the `enabled` filter). Returns the endpoint when this call
 * disabled it, else null.
 */
export async function recordFailure(
  prisma: PrismaClient,
  endpointId: string,
  { disableAfterFailures, disableNow }: { disableAfterFailures: number; disableNow: string | null },
): Promise<DisabledEndpoint | null> {
  const streakReason = `disabled after ${disableAfterFailures} consecutive failed deliveries`;
  const [row] = await prisma.$queryRaw<{ tenant_id: string; consecutive_failures: number; enabled: boolean; disabled_reason: string | null }[]>`
    UPDATE webhook_endpoints
    SET consecutive_failures = consecutive_failures + 1,
        enabled = NOT (${disableNow}::text IS NOT NULL OR consecutive_failures + 1 >= ${disableAfterFailures}),
        disabled_reason = CASE
          WHEN ${disableNow}::text IS NOT NULL THEN ${disableNow}::text
          WHEN consecutive_failures + 1 >= ${disableAfterFailures} THEN ${streakReason}
          ELSE disabled_reason END,
        updated_at = now()
    WHERE id = ${endpointId}::uuid AND enabled
    RETURNING tenant_id::text, consecutive_failures, enabled, disabled_reason`;
  if (!row || row.enabled) return null;
  return { endpointId, tenantId: row.tenant_id, reason: row.disabled_reason ?? streakReason, consecutiveFailures: row.consecutive_failures };
}
