import { query, type Executor } from "../events/index.ts";
import { sql } from "../sql/index.ts";
import { deliveryType, webhookDeliveries } from "./delivery-event.ts";
import { couldOwn, isUuid, ofTenant } from "./endpoints.ts";
import { EndpointDisabledError, EndpointNotFoundError, MessageNotFoundError } from "./errors.ts";

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

/**
 * originalDelivery: $1 the message's event id, $2 the endpoint. The WebhookDelivery event that
 * was addressed to this endpoint (its aggregate), in any status; primary key read, no lock.
 */
async function originalDelivery(db: Executor, eventId: string, endpointId: string) {
  const [row] = await query<{ payload: unknown }>(
    db,
    sql`SELECT payload FROM event_outbox
        WHERE id = ${eventId}::uuid AND event_type = ${deliveryType}
          AND aggregate_type = 'webhook_endpoint' AND aggregate_id = ${endpointId.toLowerCase()}`,
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
  const endpoint = couldOwn(tenantId, endpointId) ? await endpointState(db, tenantId, endpointId) : undefined;
  if (!endpoint) throw new EndpointNotFoundError(endpointId);
  if (!endpoint.enabled) throw new EndpointDisabledError(endpointId, endpoint.disabledReason);
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
