import { defineEvents, type EventTypeOf, type NewEventOf, type PayloadOf } from "outbox-relay";
import { withWebhooks } from "outbox-relay/webhooks";
import * as schemas from "./schemas.ts";

const byOrder = (payload: { orderId: string }) => ({ type: "order", id: payload.orderId });

/**
 * The order domain's events: the first user of the engine's catalog API. Payment events belong to
 * their order's aggregate, so a payment never overtakes its order's creation or cancel. The
 * handlers' webhook fan-out publishes outbox-relay/webhooks' WebhookDelivery events.
 */
export const orderEvents = withWebhooks(defineEvents({
  OrderCreated: { schema: schemas.orderCreated, aggregate: byOrder, priority: 1 },
  OrderCancelled: { schema: schemas.orderCancelled, aggregate: byOrder, priority: 2 },
  PaymentProcessed: { schema: schemas.paymentProcessed, aggregate: byOrder, priority: 3 },
  PaymentExpired: { schema: schemas.paymentExpired, aggregate: byOrder, priority: 3 },
  UserCreated: { schema: schemas.userCreated, aggregate: (p) => ({ type: "user", id: p.userId }), priority: 4 },
  ProductCreated: { schema: schemas.productCreated, aggregate: (p) => ({ type: "product", id: p.productId }), priority: 5 },
  TenantCreated: { schema: schemas.tenantCreated, aggregate: (p) => ({ type: "tenant", id: p.tenantId }), priority: 6 },
}));

export type OrderEvents = typeof orderEvents;
export type OrderEventType = EventTypeOf<OrderEvents>;
export type OrderEventPayload<T extends OrderEventType> = PayloadOf<OrderEvents, T>;
/** An order-domain event to publish. */
export type NewOrderEvent = NewEventOf<OrderEvents>;
