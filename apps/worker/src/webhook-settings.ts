import { webhookInFlightCaps, type Env } from "@outbox/config";
import { webhookDefaults, type WebhookDeliveryOptions } from "outbox-relay/webhooks";

/** outbox-relay/webhooks' delivery options from the parsed environment, plus hooks (metrics) from the caller. */
export function deliveryOptionsFromConfig(
  config: Env,
  hooks: Pick<WebhookDeliveryOptions, "onEndpointDisabled" | "onAttempt"> = {},
): WebhookDeliveryOptions {
  return {
    encryptionKey: config.ENCRYPTION_KEY,
    previousEncryptionKeys: config.ENCRYPTION_KEY_PREVIOUS,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    retrySchedule: config.WEBHOOK_RETRY_SCHEDULE,
    breaker: { ...webhookDefaults.breaker, failures: config.WEBHOOK_BREAKER_FAILURES, cooldownMs: config.WEBHOOK_BREAKER_COOLDOWN_MS },
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
    inFlight: webhookInFlightCaps(config),
    ...hooks,
  };
}
