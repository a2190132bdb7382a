import { query, type Executor } from "../events/index.ts";
import { sql } from "../sql/index.ts";
import { deliveryType, webhookDeliveries } from "./delivery-event.ts";
import { couldOwn, isUuid, ofTenant } from "./endpoints.ts";
import { EndpointDisabledError, EndpointNotFoundError, MessageNotFoundError, ResendTooManyError } from "./errors.ts";
import { inTransaction, type WebhookDatabase } from "./store.ts";

export interface Resent {
  /** The new WebhookDelivery event: its attempts are listed with this eventId. */
  eventId: string;
  /** The `webhook-id` the receiver gets: the original message's, as Standard Webhooks asks of a resend. */
  webhookId: string;
  endpointId: string;
}

/**
 * endpointState: $1 the endpoint, $2 the tenant (or none). The endpoint's enabled flag, when the
 * tenant owns it; primary key read, no lock (a disable racing the resend is caught by the delivery itself).
 */
export async function endpointState(db: Executor, tenantId: string | null, endpointId: string) {
  const [row] = await query<{ enabled: boolean; disabledReason: string | null }>(
    db,
    sql`SELECT enabled, disabled_reason AS "disabledReason" FROM webhook_endpoints WHERE id = ${endpointId}::uuid AND ${ofTenant(tenantId)}`,
  );
  return row;
}

/** The tenant's endpoint must exist (404) and be enabled (409). */
async function requireEnabled(db: Executor, tenantId: string | null, endpointId: string): Promise<void> {
  const endpoint = couldOwn(tenantId, endpointId) ? await endpointState(db, tenantId, endpointId) : undefined;
  if (!endpoint) throw new EndpointNotFoundError(endpointId);
  if (!endpoint.enabled) throw new EndpointDisabledError(endpointId, endpoint.disabledReason);
}

/**
 * originalDelivery: $1 the message's event id, $2 the endpoint. The WebhookDelivery event that
 * was addressed to this endpoint, in any status (a bulk resend's too, whose aggregate is the
 * message's source); primary key read, no lock.
 */
async function originalDelivery(db: Executor, eventId: string, endpointId: string) {
  const [row] = await query<{ payload: unknown }>(
    db,
    sql`SELECT payload FROM event_outbox
        WHERE id = ${eventId}::uuid AND event_type = ${deliveryType} AND payload->>'endpointId' = ${endpointId.toLowerCase()}`,
  );
  return row;
}

/**
 * Sends one message to its endpoint again: a new WebhookDelivery event (new attempts, its own
 * retries) with the original's body and `webhook-id`, so a receiver that de-duplicates by
 * `webhook-id` takes it for the same message. `eventId` names the message as the attempts list it
 * (their eventId or webhookId). Refused for another tenant's or an unknown endpoint (404), a
 * disabled one (409) and a message never sent to this endpoint or removed by retention (404).
 */
export async function resendMessage(db: Executor, tenantId: string | null, endpointId: string, eventId: string): Promise<Resent> {
  await requireEnabled(db, tenantId, endpointId);
  const original = isUuid(eventId) ? await originalDelivery(db, eventId, endpointId) : undefined;
  if (!original) throw new MessageNotFoundError(endpointId, eventId);
  const payload = webhookDeliveries.parse(deliveryType, original.payload);
  const webhookId = payload.webhookId ?? eventId.toLowerCase();
  const id = await webhookDeliveries.publish(db, {
    type: deliveryType,
    payload: { ...payload, webhookId },
    causationId: eventId,
  });
  return { eventId: id, webhookId, endpointId };
}

export interface ResendAllInput {
  /** Deliveries created at or after this time. */
  since: Date;
  /** Only the deliveries that failed for good (dead); else every finished one (delivered or dead). */
  onlyFailed: boolean;
  /** Count only: nothing is queued. */
  dryRun: boolean;
}

export interface ResendAllResult {
  matched: number;
  queued: number;
}

/** The most one bulk resend queues; a dry run counts past it. */
export const maxResendAll = 10_000;

interface Matched {
  id: string;
  payload: unknown;
  sourceType: string;
  sourceId: string;
}

/**
 * finishedDeliveries: $1 the endpoint, $2 since, $3 the statuses, $4 a limit. The endpoint's
 * deliveries (its aggregate, read along event_outbox_aggregate_idx) created since then, in commit
 * order, each with the aggregate of the event it told of (the message's source; the delivery
 * itself when retention removed the source). Plain reads, no locks.
 */
function finishedDeliveries(db: Executor, endpointId: string, { since, onlyFailed }: ResendAllInput, limit: number): Promise<Matched[]> {
  const statuses = onlyFailed ? ["dead"] : ["processed", "dead"];
  return query<Matched>(
    db,
    sql`SELECT d.id::text AS id, d.payload, coalesce(s.aggregate_type, 'webhook_message') AS "sourceType", coalesce(s.aggregate_id, d.id::text) AS "sourceId"
        FROM event_outbox d
        LEFT JOIN event_outbox s ON s.id = (d.payload->>'sourceEventId')::uuid
        WHERE d.aggregate_type = 'webhook_endpoint' AND d.aggregate_id = ${endpointId.toLowerCase()} AND d.event_type = ${deliveryType}
          AND d.created_at >= ${since} AND d.status = ANY(${statuses}::text[])
        ORDER BY d.transaction_id, d.sequence
        LIMIT ${limit}`,
  );
}

/**
 * Sends every delivery of an endpoint since a time again (every failed one, or every finished
 * one), each as /resend does (same body, same `webhook-id`), in one transaction. The resends of one
 * source aggregate (an order's messages) go one at a time in their first sending's order: each is
 * published ordered, under the aggregate `webhook_resend` `<endpoint>:<source type>:<source id>`.
 * A dry run only counts. More than `maxResendAll` matches queue nothing (ResendTooManyError): the
 * caller narrows `since`. 404 and 409 as /resend.
 */
export async function resendAll(db: WebhookDatabase, tenantId: string | null, endpointId: string, input: ResendAllInput): Promise<ResendAllResult> {
  await requireEnabled(db, tenantId, endpointId);
  if (input.dryRun) {
    const matched = await finishedDeliveries(db, endpointId, input, maxResendAll + 1);
    return { matched: matched.length > maxResendAll ? await countMatches(db, endpointId, input) : matched.length, queued: 0 };
  }
  return inTransaction(db, async (tx) => {
    const matched = await finishedDeliveries(tx, endpointId, input, maxResendAll + 1);
    if (matched.length > maxResendAll) throw new ResendTooManyError(await countMatches(tx, endpointId, input), maxResendAll);
    const resends = matched.map(({ id, payload, sourceType, sourceId }) => {
      const parsed = webhookDeliveries.parse(deliveryType, payload);
      return {
        type: deliveryType,
        payload: { ...parsed, webhookId: parsed.webhookId ?? id },
        aggregate: { type: "webhook_resend", id: `${endpointId.toLowerCase()}:${sourceType}:${sourceId}` },
        ordered: true,
        causationId: id,
      };
    });
    for (let start = 0; start < resends.length; start += 500) await webhookDeliveries.publishMany(tx, resends.slice(start, start + 500));
    return { matched: matched.length, queued: resends.length };
  });
}

async function countMatches(db: Executor, endpointId: string, { since, onlyFailed }: ResendAllInput): Promise<number> {
  const [row] = await query<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM event_outbox
        WHERE aggregate_type = 'webhook_endpoint' AND aggregate_id = ${endpointId.toLowerCase()} AND event_type = ${deliveryType}
          AND created_at >= ${since} AND status = ANY(${onlyFailed ? ["dead"] : ["processed", "dead"]}::text[])`,
  );
  return row!.n;
}
