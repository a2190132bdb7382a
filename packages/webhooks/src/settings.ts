import type { Env } from "@outbox/config";
import type { WebhookDeliveryOptions } from "./delivery.ts";
import type { EndpointSettings } from "./endpoints.ts";

/** The endpoint-management settings from the parsed environment. */
export function endpointSettingsFromConfig(config: Env): EndpointSettings {
  return { encryptionKey: config.ENCRYPTION_KEY, allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS };
}

/** The delivery handler's options from the parsed environment, plus hooks (metrics) from the caller. */
export function deliveryOptionsFromConfig(
  config: Env,
  hooks: Pick<WebhookDeliveryOptions, "onEndpointDisabled" | "onAttempt"> = {},
): WebhookDeliveryOptions {
  return {
    ...endpointSettingsFromConfig(config),
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
    ...hooks,
  };
}
