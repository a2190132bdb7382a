import { query, type Executor } from "../events/index.ts";
import { releaseHold, supersedeDeadRows } from "../outbox/index.ts";
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
async function endpointState(db: Executor, tenantId: string | null, endpointId: string) {
  const [row] = await query<{ enabled: boolean; disabledReason: string | null }>(
    db,
    sql`SELECT enabled, disabled_reason AS "disabledReason" FROM webhook_endpoints WHERE id = ${endpointId}::uuid AND ${ofTenant(tenantId)}`,
  );
  return row;
}

/** The tenant's endpoint must exist (404) and be enabled (409). */
export async function requireEnabled(db: Executor, tenantId: string | null, endpointId: string): Promise<void> {
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

/** The aggregate type of a bulk resend's deliveries: `<endpoint>:<source type>:<source id>`, ordered. */
export const resendAggregateType = "webhook_resend";

/**
 * A bulk resend's delivery that failed for good stops holding the rest of its chain (the state
 * machine's releaseHold), so one dead resend does not hold its order's later messages until an
 * admin acts: the rescuer queues the next.
 */
export async function releaseResendChain(db: Executor, eventId: string): Promise<void> {
  await releaseHold(db, eventId, resendAggregateType);
}

/** The most one bulk resend queues; a dry run counts past it. */
export const maxResendAll = 10_000;

interface Matched {
  id: string;
  payload: unknown;
  status: string;
  sourceType: string;
  sourceId: string;
}

/** The deliveries of the endpoint: its own (its aggregate) and a bulk resend's (their payload names it). */
const toEndpoint = (endpointId: string) => sql`d.event_type = ${deliveryType} AND (
  (d.aggregate_type = 'webhook_endpoint' AND d.aggregate_id = ${endpointId.toLowerCase()})
  OR (d.aggregate_type = 'webhook_resend' AND d.payload->>'endpointId' = ${endpointId.toLowerCase()}))`;

/**
 * latestCopies: $1 the endpoint, $2 since, $3 the statuses, $4 a limit. Each message (its
 * `webhook-id`) sent to the endpoint since then, by its latest copy (the original, or its latest
 * resend), when that copy finished in one of the statuses (a message whose latest copy is still
 * under way is left alone), in the order the messages were first sent; each with the aggregate of
 * the event it told of (the message's source; the delivery itself when retention removed the
 * source). Reads the endpoint's aggregate along event_outbox_aggregate_idx and its resends'; no locks.
 */
function latestCopies(db: Executor, endpointId: string, { since, onlyFailed }: ResendAllInput, limit: number): Promise<Matched[]> {
  const statuses = onlyFailed ? ["dead"] : ["processed", "dead"];
  return query<Matched>(
    db,
    sql`WITH copies AS (
          SELECT d.id, d.payload, d.status, d.sequence, coalesce(d.payload->>'webhookId', d.id::text) AS message,
            min(d.sequence) OVER (PARTITION BY coalesce(d.payload->>'webhookId', d.id::text)) AS first_sent,
            row_number() OVER (PARTITION BY coalesce(d.payload->>'webhookId', d.id::text) ORDER BY d.sequence DESC) AS newest
          FROM event_outbox d
          WHERE ${toEndpoint(endpointId)} AND d.created_at >= ${since} AND d.status <> 'skipped'
        )
        SELECT c.id::text AS id, c.payload, c.status,
          coalesce(s.aggregate_type, 'webhook_message') AS "sourceType", coalesce(s.aggregate_id, c.message) AS "sourceId"
        FROM copies c
        LEFT JOIN event_outbox s ON s.id = (c.payload->>'sourceEventId')::uuid
        WHERE c.newest = 1 AND c.status = ANY(${statuses}::text[])
        ORDER BY c.first_sent
        LIMIT ${limit}`,
  );
}

/**
 * Sends every delivery of an endpoint since a time again (every failed one, or every finished
 * one), each as /resend does (same body, same `webhook-id`), in one transaction. A message counts
 * once, by its latest copy: one whose resend was delivered is not failed any more. The resends of
 * one source aggregate (an order's messages) go one at a time in their first sending's order: each
 * is published ordered, under the aggregate `webhook_resend` `<endpoint>:<source type>:<source id>`;
 * one that fails for good stops holding the rest (the delivery handler). A dead copy that is sent
 * again becomes `skipped`, "sent again as <id>": the new copy carries it. Malformed payloads (a
 * row written by hand) are left out. A dry run only counts. More than `maxResendAll` matches queue
 * nothing (ResendTooManyError): the caller narrows `since`. 404 and 409 as /resend.
 */
export async function resendAll(db: WebhookDatabase, tenantId: string | null, endpointId: string, input: ResendAllInput): Promise<ResendAllResult> {
  await requireEnabled(db, tenantId, endpointId);
  if (input.dryRun) {
    const matched = await latestCopies(db, endpointId, input, maxResendAll + 1);
    return { matched: matched.length > maxResendAll ? await countMatches(db, endpointId, input) : matched.length, queued: 0 };
  }
  return inTransaction(db, async (tx) => {
    const matched = await latestCopies(tx, endpointId, input, maxResendAll + 1);
    if (matched.length > maxResendAll) throw new ResendTooManyError(await countMatches(tx, endpointId, input), maxResendAll);
    const resends = matched.flatMap((copy) => {
      const result = safeDelivery(copy.payload);
      if (!result) return [];
      const event = {
        type: deliveryType,
        payload: { ...result, webhookId: result.webhookId ?? copy.id },
        aggregate: { type: resendAggregateType, id: `${endpointId.toLowerCase()}:${copy.sourceType}:${copy.sourceId}` },
        ordered: true,
        causationId: copy.id,
      };
      return [{ copy, event }];
    });
    const ids: string[] = [];
    for (let start = 0; start < resends.length; start += 500) ids.push(...(await webhookDeliveries.publishMany(tx, resends.slice(start, start + 500).map((r) => r.event))));
    await supersedeDeadRows(
      tx,
      resends.flatMap(({ copy }, index) => (copy.status === "dead" ? [{ id: copy.id, reason: `sent again by resend-all as ${ids[index]!}` }] : [])),
    );
    return { matched: matched.length, queued: resends.length };
  });
}

function safeDelivery(payload: unknown) {
  try {
    return webhookDeliveries.parse(deliveryType, payload);
  } catch {
    return undefined;
  }
}

async function countMatches(db: Executor, endpointId: string, input: ResendAllInput): Promise<number> {
  return (await latestCopies(db, endpointId, input, 1_000_000)).length;
}
