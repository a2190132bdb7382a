import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "outbox-relay";
import { createEndpoint, decryptSecret, encryptionKeyId } from "outbox-relay/webhooks";
import { waitFor } from "@outbox/testing";
import { setupPipeline, startTestWorker, type PipelineEnv } from "./helpers.ts";

const oldKey = "the old encryption key of the shop: 32 characters or more";
const newKey = "the new encryption key of the shop: 32 characters or more";
let pipeline: PipelineEnv;

beforeAll(async () => {
  pipeline = await setupPipeline();
});
afterAll(async () => {
  await pipeline?.cleanup();
});

describe("the shop's worker during a key rotation", () => {
  it("re-encrypts the endpoint secrets under ENCRYPTION_KEY at start when ENCRYPTION_KEY_PREVIOUS is set", async () => {
    const tenantId = randomUUID();
    await pipeline.sql.execute(sql`INSERT INTO tenants (id, name, slug) VALUES (${tenantId}::uuid, 'Acme', ${`acme-${tenantId}`})`);
    const { endpoint, secret } = await createEndpoint(pipeline.sql, { encryptionKey: oldKey, allowPrivateNetworks: true }, { tenantId, url: "http://127.0.0.1:9/", events: ["*"] });
    const stored = async () =>
      (await pipeline.sql.query<{ value: string }>(sql`SELECT secret_encrypted AS value FROM webhook_endpoints WHERE id = ${endpoint.id}::uuid`))[0]!.value;

    const worker = await startTestWorker(pipeline, { ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey });
    try {
      const underNewKey = async () => {
        const value = await stored();
        return value.startsWith(`v2:${encryptionKeyId(newKey)}:`) ? value : undefined;
      };
      const value = await waitFor(underNewKey, { message: "the secret under the new key" });
      expect(decryptSecret(value, newKey)).toBe(secret);
    } finally {
      await worker.stop();
    }
  });
});
