import type { EventCatalog } from "../events/index.ts";
import { batch, isExternal, type AnyHandlerMap, type EventHandler, type HandledEvent, type HandlerMap } from "../processor/handler.ts";
import { createWebhookDeliveryHandler, type WebhookDeliveryOptions } from "./delivery.ts";
import { deliveryType } from "./delivery-event.ts";
import { fanOutWebhooks, type WebhookNotification } from "./fan-out.ts";

// A handler of any type of any catalog, as a handler map holds it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = EventHandler<EventCatalog, any>;

/** An event as its endpoints receive it: its type, its payload as `data`, for its tenant's endpoints. */
function notificationOf(event: Pick<HandledEvent, "id" | "type" | "tenantId">, payload: unknown): WebhookNotification {
  const data = typeof payload === "object" && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : { payload };
  return { sourceEventId: event.id, tenantId: event.tenantId, type: event.type, data };
}

/**
 * The handler, then the fan-out of its events in the transaction its effects commit in. An
 * external handler runs outside any transaction, so its events are not fanned out; a type with
 * no handler gets one that only fans out.
 */
function withFanOut(handler: AnyHandler | undefined): AnyHandler {
  if (handler === undefined) {
    return batch(async ({ tx, events }) => {
      await fanOutWebhooks(tx, events.map((event) => notificationOf(event, event.payload)));
    });
  }
  if (isExternal(handler)) return handler;
  if (typeof handler === "function") {
    return async (context) => {
      await handler(context);
      await fanOutWebhooks(context.tx, [notificationOf(context.event, context.event.payload)]);
    };
  }
  return batch(async (context) => {
    await handler.run(context);
    await fanOutWebhooks(context.tx, context.events.map((event) => notificationOf(event, event.payload)));
  });
}

/**
 * The webhook sink for a worker: the catalog's handlers, each followed by the fan-out of its events
 * to the enabled endpoints subscribed to their type (`type` in the body is the event type, `data`
 * its payload; an event reaches the endpoints of its tenant, or without one those of no tenant),
 * and the `WebhookDelivery` handler that POSTs them. The catalog needs that type: `withWebhooks(…)`.
 *
 *     startWorker({ catalog: events, handlers: webhookHandlers(events, handlers, { encryptionKey, allowPrivateNetworks: false }), … })
 */
export function webhookHandlers<C extends EventCatalog>(catalog: C, handlers: HandlerMap<C>, options: WebhookDeliveryOptions): HandlerMap<C> {
  if (!catalog.types.includes(deliveryType)) throw new TypeError("the catalog has no WebhookDelivery type, which the webhook sink publishes: pass withWebhooks(catalog)");
  const sink: AnyHandlerMap = { ...(handlers as AnyHandlerMap) };
  for (const type of catalog.types) if (type !== deliveryType) sink[type] = withFanOut(sink[type]);
  sink[deliveryType] = createWebhookDeliveryHandler(options) as AnyHandler;
  return sink as HandlerMap<C>;
}
