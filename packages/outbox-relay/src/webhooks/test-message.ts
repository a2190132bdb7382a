import { randomUUID } from "node:crypto";
import type { Executor } from "../events/index.ts";
import { deliveryType, webhookDeliveries } from "./delivery-event.ts";
import { requireEnabled, type Resent } from "./resend.ts";

/** The `type` a test message's body carries; no event of the service has it, and endpoints get it whatever they subscribe to. */
export const testMessageType = "webhook.test";

/**
 * Sends one test message to one endpoint of the tenant, whatever types it subscribes to: a
 * `WebhookDelivery` event like any other (published now, signed, retried, each attempt a
 * `webhook_attempts` row), with body `{"type":"webhook.test","timestamp","data":{…}}`. Its
 * `webhook-id` is its own event id, which is also its `sourceEventId` (it tells of no other
 * event). Refused for another tenant's or an unknown endpoint (EndpointNotFoundError) and a
 * disabled one (EndpointDisabledError: its delivery would send nothing).
 */
export async function sendTestMessage(db: Executor, tenantId: string | null, endpointId: string): Promise<Resent> {
  await requireEnabled(db, tenantId, endpointId);
  const id = randomUUID();
  const occurredAt = new Date().toISOString();
  await webhookDeliveries.publish(db, {
    id,
    type: deliveryType,
    payload: {
      endpointId: endpointId.toLowerCase(),
      tenantId: tenantId?.toLowerCase() ?? null,
      type: testMessageType,
      sourceEventId: id,
      data: { message: "A test message: your endpoint receives and verifies webhooks.", endpointId: endpointId.toLowerCase(), sentAt: occurredAt },
      occurredAt,
    },
  });
  return { eventId: id, webhookId: id, endpointId: endpointId.toLowerCase() };
}
