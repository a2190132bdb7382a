import { describe, expect, it } from "vitest";
import { loadConfig } from "@outbox/config";
import { deliveryOptionsFromConfig } from "../src/webhook-settings.ts";

const encryptionKey = "test-encryption-key-with-32-chars-or-more";

describe("the webhook delivery's settings", () => {
  it("come from the environment: caps from WEBHOOK_IN_FLIGHT_PER_ENDPOINT and _PER_TENANT, defaulting to 4 and a fifth of WEBHOOK_CONCURRENCY", () => {
    const base = { ENCRYPTION_KEY: encryptionKey };
    expect(deliveryOptionsFromConfig(loadConfig(base))).toMatchObject({
      encryptionKey,
      allowPrivateNetworks: false,
      timeoutMs: 30_000,
      disableAfterFailures: 10,
      inFlight: { perEndpoint: 4, perTenant: 10 },
    });
    expect(deliveryOptionsFromConfig(loadConfig({ ...base, WEBHOOK_CONCURRENCY: "10" })).inFlight).toEqual({ perEndpoint: 2, perTenant: 2 });
    const set = loadConfig({ ...base, WEBHOOK_CONCURRENCY: "20", WEBHOOK_IN_FLIGHT_PER_TENANT: "8", WEBHOOK_IN_FLIGHT_PER_ENDPOINT: "3" });
    expect(deliveryOptionsFromConfig(set).inFlight).toEqual({ perEndpoint: 3, perTenant: 8 });
  });

  it("read secrets under ENCRYPTION_KEY or any key of ENCRYPTION_KEY_PREVIOUS", () => {
    const previous = ["o".repeat(32), "p".repeat(32)];
    expect(deliveryOptionsFromConfig(loadConfig({ ENCRYPTION_KEY: encryptionKey, ENCRYPTION_KEY_PREVIOUS: previous.join(",") }))).toMatchObject({
      encryptionKey,
      previousEncryptionKeys: previous,
    });
  });

  it("refuse a per-tenant cap above WEBHOOK_CONCURRENCY and a per-endpoint cap above the tenant's, naming the field", () => {
    expect(() => loadConfig({ WEBHOOK_CONCURRENCY: "5", WEBHOOK_IN_FLIGHT_PER_TENANT: "6" })).toThrow(/WEBHOOK_IN_FLIGHT_PER_TENANT.*must not exceed WEBHOOK_CONCURRENCY \(5\)/);
    expect(() => loadConfig({ WEBHOOK_IN_FLIGHT_PER_TENANT: "3", WEBHOOK_IN_FLIGHT_PER_ENDPOINT: "4" })).toThrow(/WEBHOOK_IN_FLIGHT_PER_ENDPOINT.*must not exceed WEBHOOK_IN_FLIGHT_PER_TENANT \(3\)/);
  });
});
