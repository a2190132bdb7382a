import type { z } from "zod";
import * as schemas from "./schemas.ts";

export const queueNames = { events: "events", webhooks: "webhooks", deadLetter: "dead-letter" } as const;
export type WorkQueue = typeof queueNames.events | typeof queueNames.webhooks;

/** How the pipeline treats one event type. Priority: 1 is the highest (BullMQ's order). */
export interface EventPolicy {
  queue: WorkQueue;
  priority: number;
  attempts: number;
  /** First retry delay; each later one doubles it. */
  backoffMs: number;
  timeoutMs: number;
  /** Whether events of one aggregate run one at a time in commit order. */
  ordered: boolean;
}

interface CatalogEntry<S extends z.ZodType> {
  schema: S;
  policy: EventPolicy;
  /** The aggregate whose events run in order; read from the payload when the producer names none. */
  aggregate: (payload: z.infer<S>) => { type: string; id: string };
}

function entry<S extends z.ZodType>(
  schema: S,
  policy: Partial<EventPolicy> & Pick<EventPolicy, "priority">,
  aggregate: (payload: z.infer<S>) => { type: string; id: string },
): CatalogEntry<S> {
  return { schema, aggregate, policy: { ...defaultPolicy, ...policy } };
}

export const defaultPolicy: EventPolicy = {
  queue: queueNames.events,
  priority: 10,
  attempts: 3,
  backoffMs: 2000,
  timeoutMs: 30_000,
  ordered: true,
};

/** Payment events belong to their order's aggregate: a payment never overtakes its order's creation or cancel. */
export const eventCatalog = {
  OrderCreated: entry(schemas.orderCreated, { priority: 1 }, (p) => ({ type: "order", id: p.orderId })),
  OrderCancelled: entry(schemas.orderCancelled, { priority: 2 }, (p) => ({ type: "order", id: p.orderId })),
  PaymentProcessed: entry(schemas.paymentProcessed, { priority: 3 }, (p) => ({ type: "order", id: p.orderId })),
  PaymentExpired: entry(schemas.paymentExpired, { priority: 3 }, (p) => ({ type: "order", id: p.orderId })),
  UserCreated: entry(schemas.userCreated, { priority: 4 }, (p) => ({ type: "user", id: p.userId })),
  ProductCreated: entry(schemas.productCreated, { priority: 5 }, (p) => ({ type: "product", id: p.productId })),
  TenantCreated: entry(schemas.tenantCreated, { priority: 6 }, (p) => ({ type: "tenant", id: p.tenantId })),
  WebhookDelivery: entry(
    schemas.webhookDelivery,
    { queue: queueNames.webhooks, priority: 5, attempts: 5, backoffMs: 5000, timeoutMs: 35_000, ordered: false },
    (p) => ({ type: "webhook_endpoint", id: p.endpointId }),
  ),
} as const;

export type EventCatalog = typeof eventCatalog;
export type EventType = keyof EventCatalog;
export type EventPayload<T extends EventType> = z.infer<EventCatalog[T]["schema"]>;
export type EventPayloads = { [T in EventType]: EventPayload<T> };

export const eventTypes = Object.keys(eventCatalog) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventCatalog, type);
}

export function policyOf(type: EventType): EventPolicy {
  return eventCatalog[type].policy;
}

/** Types whose events do not wait for earlier events of their aggregate. */
export const unorderedEventTypes: EventType[] = eventTypes.filter((type) => !eventCatalog[type].policy.ordered);
