import type { Env } from "@outbox/config";
import type { EndpointSettings } from "./endpoints.ts";

/** The endpoint-management settings from the parsed environment. */
export function endpointSettingsFromConfig(config: Env): EndpointSettings {
  return {
    encryptionKey: config.ENCRYPTION_KEY,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    maxEndpointsPerTenant: config.WEBHOOK_ENDPOINTS_PER_TENANT_MAX,
  };
}
