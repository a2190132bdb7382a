import path from "node:path";
import { describe, expect, it } from "vitest";
import { encryptionKeysFrom, loadCatalog, settingsFrom } from "../../src/cli/environment.ts";
import { testEvents } from "@outbox/testing";

const fixture = (name: string) => path.join(import.meta.dirname, "fixtures", name);

describe("the outbox-relay bin's settings", () => {
  it("come from the environment, each flag overriding its variable", async () => {
    const env = { DATABASE_URL: "postgres://env/db", REDIS_URL: "redis://env:6379", QUEUE_PREFIX: "billing", RETRY_BACKOFF_MS: "250" };
    expect(await settingsFrom({}, env)).toEqual({ databaseUrl: "postgres://env/db", redis: { url: "redis://env:6379" }, queuePrefix: "billing", retryBackoffMs: 250, catalog: undefined });
    const flags = { "database-url": "postgres://flag/db", "redis-cluster-nodes": "10.0.0.1:7000,10.0.0.2:7000", "queue-prefix": "other" };
    expect(await settingsFrom(flags, env)).toMatchObject({ databaseUrl: "postgres://flag/db", redis: { url: "redis://env:6379", clusterNodes: "10.0.0.1:7000,10.0.0.2:7000" }, queuePrefix: "other" });
    expect((await settingsFrom({}, { DATABASE_URL: "postgres://x/y", REDIS_URL: "redis://x" })).queuePrefix).toBe("outbox");
  });

  it("name what is missing or wrong", async () => {
    await expect(settingsFrom({}, { REDIS_URL: "redis://x" })).rejects.toThrow("set DATABASE_URL or pass --database-url");
    await expect(settingsFrom({}, { DATABASE_URL: "postgres://x/y" })).rejects.toThrow("set REDIS_URL or pass --redis-url");
    await expect(settingsFrom({}, { DATABASE_URL: "postgres://x/y", REDIS_URL: "redis://x", RETRY_BACKOFF_MS: "soon" })).rejects.toThrow('RETRY_BACKOFF_MS: "soon" is not a positive whole number');
  });

  it("load the service's catalog from --catalog or OUTBOX_RELAY_CATALOG: its default export, or its only catalog", async () => {
    expect(await loadCatalog(fixture("catalogs.ts"))).toBe(testEvents);
    const env = { DATABASE_URL: "postgres://x/y", REDIS_URL: "redis://x", OUTBOX_RELAY_CATALOG: fixture("catalogs.ts") };
    expect((await settingsFrom({}, env)).catalog).toBe(testEvents);
    await expect(loadCatalog(fixture("two-catalogs.ts"))).rejects.toThrow("exports 2 catalogs; export the service's as default");
    await expect(loadCatalog(fixture("no-catalog.ts"))).rejects.toThrow("no catalog");
  });

  it("take the webhook secrets' keys from ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS, refusing a short one by name", () => {
    const [current, older, oldest] = ["c".repeat(32), "o".repeat(32), "p".repeat(40)];
    expect(encryptionKeysFrom({})).toEqual({ encryptionKey: undefined, previousEncryptionKeys: [] });
    expect(encryptionKeysFrom({ ENCRYPTION_KEY: current, ENCRYPTION_KEY_PREVIOUS: `${older}, ${oldest}` })).toEqual({ encryptionKey: current, previousEncryptionKeys: [older, oldest] });
    expect(() => encryptionKeysFrom({ ENCRYPTION_KEY: "short" })).toThrow("ENCRYPTION_KEY: must be at least 32 characters");
    expect(() => encryptionKeysFrom({ ENCRYPTION_KEY: current, ENCRYPTION_KEY_PREVIOUS: `${older},short` })).toThrow(
      "ENCRYPTION_KEY_PREVIOUS: key 2 of 2 must be at least 32 characters",
    );
  });
});
