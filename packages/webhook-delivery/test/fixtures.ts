import { randomUUID } from "node:crypto";
import type { OrderEventPayload, OrderEvents } from "@outbox/domain";
import type { HandledEvent } from "outbox-relay/processor";

export { createTenant, encryptionKey } from "../../webhooks/test/fixtures.ts";

/** A WebhookDelivery event as the processor hands it to the handler. */
export function deliveryEvent(
  endpointId: string,
  tenantId: string,
  { id = randomUUID(), attempt = 1 }: { id?: string; attempt?: number } = {},
): HandledEvent<OrderEvents, "WebhookDelivery"> {
  const payload: OrderEventPayload<"WebhookDelivery"> = {
    endpointId,
    tenantId,
    type: "order.created",
    sourceEventId: randomUUID(),
    data: { orderId: "o-1", totalAmount: 1999 },
    occurredAt: new Date().toISOString(),
  };
  return { id, type: "WebhookDelivery", payload, aggregateType: "webhook_endpoint", aggregateId: endpointId, tenantId, attempt, createdAt: new Date() };
}
