import { webhookInFlightCaps, type Env } from "@outbox/config";
import { endpointSettingsFromConfig } from "@outbox/webhooks";
import type { WebhookDeliveryOptions } from "./delivery.ts";

/** The delivery handler's options from the parsed environment, plus hooks (metrics) from the caller. */
export function deliveryOptionsFromConfig(
  config: Env,
  hooks: Pick<WebhookDeliveryOptions, "onEndpointDisabled" | "onAttempt"> = {},
): WebhookDeliveryOptions {
  return {
    ...endpointSettingsFromConfig(config),
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
    inFlight: webhookInFlightCaps(config),
    ...hooks,
  };
}
