import { z } from "zod";
import { retryScheduleLimits } from "./retry-schedule.ts";
import { defineEvents, inspectJson, isStorableText, queueNames, unstorableTextMessage, type EventCatalog, type EventDefinition, type Schemas } from "../events/index.ts";

/** The event type of one signed POST of one notification to one endpoint. */
export const deliveryType = "WebhookDelivery" as const;

const text = () => z.string().refine(isStorableText, unstorableTextMessage);
const uuid = z.uuid("must be a UUID");

const webhookDelivery = z.object({
  endpointId: uuid,
  /** The endpoint's tenant; null for an endpoint of no tenant. */
  tenantId: text().min(1).max(200).nullable(),
  /** What the receiver reads as `type`: the event type it subscribed to (or a name the service gives it). */
  type: text().min(1).max(200),
  sourceEventId: uuid,
  data: z.record(z.string(), z.unknown()).superRefine((data, ctx) => {
    for (const path of inspectJson(data).unstorable) ctx.addIssue({ code: "custom", path: path.split("."), message: unstorableTextMessage });
  }),
  occurredAt: z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time" }),
  /** The Standard Webhooks message id when it is not this event's own id: a resend keeps the original's. */
  webhookId: uuid.optional(),
});

export type WebhookDeliverySchemas = { WebhookDelivery: typeof webhookDelivery };
export type WebhookDeliveryPayload = z.output<typeof webhookDelivery>;

/**
 * Unordered, on the `webhooks` queue: one endpoint's deliveries do not wait for each other, and a
 * slow receiver holds only webhook slots. The delivery handler keeps the retry schedule (its
 * attempts and waits, the endpoint's or the service's); the job allows the most any schedule may
 * ask. Retries run below first attempts.
 */
const webhookDeliveryEvent: EventDefinition<typeof webhookDelivery> = {
  schema: webhookDelivery,
  aggregate: (payload) => ({ type: "webhook_endpoint", id: payload.endpointId }),
  priority: 5,
  retryPriority: 50,
  ordered: false,
  policy: { queue: queueNames.webhooks, attempts: retryScheduleLimits.maxAttempts, backoffMs: 60_000, timeoutMs: 35_000 },
};

/** The package's own catalog of deliveries: what the fan-out and a resend publish with. */
export const webhookDeliveries = defineEvents<WebhookDeliverySchemas>({ WebhookDelivery: webhookDeliveryEvent });

/**
 * The catalog with the `WebhookDelivery` type added, which a worker needs to run deliveries:
 * `const events = withWebhooks(defineEvents({ … }))`.
 */
export function withWebhooks<S extends Schemas>(catalog: EventCatalog<S>): EventCatalog<S & WebhookDeliverySchemas> {
  const definitions = { ...catalog.definitions, ...webhookDeliveries.definitions };
  return defineEvents(definitions as { [T in keyof (S & WebhookDeliverySchemas)]: EventDefinition<(S & WebhookDeliverySchemas)[T]> });
}
