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
      retrySchedule: [0, 60_000, 600_000, 3_600_000, 21_600_000],
      breaker: { failures: 5, cooldownMs: 60_000, maxCooldownMs: 1_800_000 },
      disableAfterMs: 5 * 24 * 3_600_000,
      inFlight: { perEndpoint: 4, perTenant: 10 },
    });
    const shortened = loadConfig({ ...base, WEBHOOK_RETRY_SCHEDULE: "0, 500ms, 2s", WEBHOOK_BREAKER_FAILURES: "3", WEBHOOK_DISABLE_AFTER_MS: "60000" });
    expect(deliveryOptionsFromConfig(shortened)).toMatchObject({ retrySchedule: [0, 500, 2000], breaker: { failures: 3 }, disableAfterMs: 60_000 });
    expect(deliveryOptionsFromConfig(loadConfig({ ...base, WEBHOOK_CONCURRENCY: "10" })).inFlight).toEqual({ perEndpoint: 2, perTenant: 2 });
    const set = loadConfig({ ...base, WEBHOOK_CONCURRENCY: "20", WEBHOOK_IN_FLIGHT_PER_TENANT: "8", WEBHOOK_IN_FLIGHT_PER_ENDPOINT: "3" });
    expect(deliveryOptionsFromConfig(set).inFlight).toEqual({ perEndpoint: 3, perTenant: 8 });
  });

  it("refuse a retry schedule that is not one wait per attempt, naming the variable and the bad item", () => {
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: "0,1m,ten minutes" })).toThrow(/WEBHOOK_RETRY_SCHEDULE.*"ten minutes" is not a duration/);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: "0,5" })).toThrow(/WEBHOOK_RETRY_SCHEDULE.*"5" needs a unit/);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: "0,2d" })).toThrow(/WEBHOOK_RETRY_SCHEDULE.*longer than 24h/);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: "0,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s" })).toThrow(/WEBHOOK_RETRY_SCHEDULE.*at most 10 waits/);
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
