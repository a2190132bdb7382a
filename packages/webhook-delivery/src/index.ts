export {
  createWebhookDeliveryHandler,
  defaultDeferDelays,
  defaultInFlightCaps,
  defaultUserAgent,
  type WebhookDeliveryOptions,
} from "./delivery.ts";
export { DeferDelays, InFlightLimits } from "./in-flight.ts";
export { webhookMetrics, webhookResultOf } from "./metrics.ts";
export { parseRetryAfter, retryAfterStatuses } from "./retry-after.ts";
export { deliveryOptionsFromConfig } from "./settings.ts";
export { signatureHeader } from "./signing.ts";
