import { query, type Executor } from "../events/index.ts";
import { skipUnfinished } from "../outbox/index.ts";
import { sql, type Statement } from "../sql/index.ts";
import { webhookDefaults } from "./defaults.ts";
import { deliveryType } from "./delivery-event.ts";
import { couldOwn, ofTenant, viewColumns, type EndpointSettings, type EndpointView } from "./endpoints.ts";
import { parseRetryScheduleInput } from "./endpoint-input.ts";
import { resendAggregateType } from "./resend.ts";
import { EndpointNotFoundError } from "./errors.ts";
import { encryptSecret, generateSecret } from "./secrets.ts";
import { inTransaction, type WebhookDatabase } from "./store.ts";

/**
 * updateOwned: $1 the endpoint, $2 the tenant (or none), and the changes. One UPDATE of the row by
 * its primary key, only when the tenant owns it; zero rows is EndpointNotFoundError.
 */
async function updateOwned(db: Executor, tenantId: string | null, endpointId: string, changes: Statement): Promise<EndpointView> {
  const [endpoint] = couldOwn(tenantId, endpointId)
    ? await query<EndpointView>(db, sql`
        UPDATE webhook_endpoints SET ${changes}, updated_at = now()
        WHERE id = ${endpointId}::uuid AND ${ofTenant(tenantId)}
        RETURNING ${viewColumns}`)
    : [];
  if (!endpoint) throw new EndpointNotFoundError(endpointId);
  return endpoint;
}

export function disableEndpoint(db: Executor, tenantId: string | null, endpointId: string, reason = "disabled by the tenant"): Promise<EndpointView> {
  return updateOwned(db, tenantId, endpointId, sql`enabled = false, disabled_reason = ${reason}::text, disabled_at = now()`);
}

/** Enables an endpoint again and forgets its failure streak and its breaker. */
export function enableEndpoint(db: Executor, tenantId: string | null, endpointId: string): Promise<EndpointView> {
  return updateOwned(
    db,
    tenantId,
    endpointId,
    sql`enabled = true, disabled_reason = NULL, disabled_at = NULL, consecutive_failures = 0, failing_since = NULL, breaker_open_until = NULL, breaker_trips = 0`,
  );
}

/** Sets the endpoint's own retry schedule (`0,30s,5m`, within the limits), or null for the service's; InvalidEndpointError otherwise. */
export function setRetrySchedule(db: Executor, tenantId: string | null, endpointId: string, retrySchedule: unknown): Promise<EndpointView> {
  const schedule = parseRetryScheduleInput(retrySchedule);
  return updateOwned(db, tenantId, endpointId, sql`retry_schedule = ${schedule}::integer[]`);
}

/**
 * A new secret, returned once. The current one becomes the previous one and keeps signing beside
 * the new one until `graceMs` from now, so receivers can switch without a failed delivery. One
 * UPDATE: its right-hand sides read the row as it was.
 */
export async function rotateSecret(
  db: Executor,
  settings: Pick<EndpointSettings, "encryptionKey">,
  tenantId: string | null,
  endpointId: string,
  { graceMs = webhookDefaults.rotationGraceMs }: { graceMs?: number } = {},
): Promise<{ endpoint: EndpointView; secret: string }> {
  const secret = generateSecret();
  const secretEncrypted = encryptSecret(secret, settings.encryptionKey);
  const expiresAt = new Date(Date.now() + graceMs);
  const endpoint = await updateOwned(
    db,
    tenantId,
    endpointId,
    sql`previous_secret_encrypted = secret_encrypted, secret_encrypted = ${secretEncrypted}::text, previous_secret_expires_at = ${expiresAt}::timestamptz`,
  );
  return { endpoint, secret };
}

/** Why the deliveries of a deleted endpoint were not sent (their `last_error`). */
export const deletedEndpointReason = "the webhook endpoint was deleted; this delivery was not sent";

/**
 * Deletes an endpoint and, in the same transaction, ends its unsent deliveries: every WebhookDelivery
 * addressed to it that is still pending (waiting, or between retries) or dead becomes `skipped`,
 * finished now, with `deletedEndpointReason`. Their jobs, when they run, find the row no longer
 * runnable and send nothing. Its attempts go with it (the foreign key cascades). Returns how many
 * deliveries were skipped.
 */
export async function deleteEndpoint(db: WebhookDatabase, tenantId: string | null, endpointId: string): Promise<{ id: string; skippedDeliveries: number }> {
  if (!couldOwn(tenantId, endpointId)) throw new EndpointNotFoundError(endpointId);
  return inTransaction(db, async (tx) => {
    // deleteOwned: $1 the endpoint, $2 the tenant. Zero rows: not this tenant's (or already deleted).
    const deleted = await query<{ id: string }>(
      tx,
      sql`DELETE FROM webhook_endpoints WHERE id = ${endpointId}::uuid AND ${ofTenant(tenantId)} RETURNING id::text AS id`,
    );
    if (deleted.length === 0) throw new EndpointNotFoundError(endpointId);
    // A delivery a run marks sent at the same time is lost to the skip: it was sent, and is not counted.
    const skipped = await skipUnfinished(tx, {
      aggregateType: "webhook_endpoint",
      aggregateId: endpointId.toLowerCase(),
      eventType: deliveryType,
      reason: deletedEndpointReason,
    });
    // A bulk resend's deliveries to it, under their sources' aggregates.
    const resends = await skipUnfinished(tx, {
      aggregateType: resendAggregateType,
      payloadEquals: { field: "endpointId", value: endpointId.toLowerCase() },
      eventType: deliveryType,
      reason: deletedEndpointReason,
    });
    return { id: endpointId.toLowerCase(), skippedDeliveries: skipped.changed.length + resends.changed.length };
  });
}
