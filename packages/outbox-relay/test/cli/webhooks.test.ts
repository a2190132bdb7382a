import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase } from "@outbox/testing";
import { runCli } from "../../src/admin/index.ts";
import type { EncryptionKeys } from "../../src/webhooks/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createEndpoint, decryptSecret, encryptionKeyId, withWebhooks } from "../../src/webhooks/index.ts";
import { defineEvents } from "../../src/events/index.ts";
import { createWebhookDatabase } from "../webhooks/fixtures.ts";

const keyA = "a".repeat(32) + "-the-old-encryption-key";
const keyB = "b".repeat(32) + "-the-new-encryption-key";

let database: TestDatabase;
let pool: Database;

beforeAll(async () => {
  database = await createWebhookDatabase();
  pool = new Database(database.url, { poolSize: 2 });
});
afterAll(async () => {
  await pool?.close();
  await database?.drop();
});

/** `outbox-relay webhooks …` as the bin runs it, on this test's database alone (no Redis, no catalog), its output kept. */
async function outbox(keys: EncryptionKeys | undefined, ...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    program: "outbox-relay",
    settings: () => {
      throw new Error("the webhooks commands need no settings beyond the database and the keys");
    },
    databaseUrl: () => database.url,
    ...(keys ? { encryptionKeys: () => keys } : {}),
    stdout: { write: (text) => void (stdout += text) },
    stderr: { write: (text) => void (stderr += text) },
  });
  return { code, stdout, stderr };
}

const storedValues = () => pool.query<{ secretEncrypted: string }>(sql`SELECT secret_encrypted AS "secretEncrypted" FROM webhook_endpoints ORDER BY id`);

describe("outbox-relay webhooks keys | reencrypt", () => {
  it("reports, dry-runs, re-encrypts under the new key, and reports nothing left under the old one; keys never printed", async () => {
    const secrets = await Promise.all(
      [1, 2, 3].map(async () => (await createEndpoint(pool, { encryptionKey: keyA, allowPrivateNetworks: true }, { tenantId: randomUUID(), url: "http://127.0.0.1:9/", events: ["*"] })).secret),
    );
    const rotation = { encryptionKey: keyB, previousEncryptionKeys: [keyA] };

    const before = await outbox(rotation, "webhooks", "keys", "--json");
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual({
      endpoints: 3,
      current: { keyId: encryptionKeyId(keyB), secrets: 0 },
      previous: [{ position: 1, keyId: encryptionKeyId(keyA), secrets: 3 }],
      unreadable: 0,
      v1Format: 0,
    });
    const table = await outbox(rotation, "webhooks", "keys");
    expect(table.stdout).toMatch(new RegExp(`previous 1 \\(ENCRYPTION_KEY_PREVIOUS\\)\\s+${encryptionKeyId(keyA)}\\s+3`));

    const stored = await storedValues();
    const dryRun = await outbox(rotation, "webhooks", "reencrypt", "--dry-run");
    expect(dryRun.stdout).toContain("3 endpoints: would re-encrypt 3 secrets under the current key (dry run: nothing written)");
    expect(await storedValues()).toEqual(stored);

    const run = await outbox(rotation, "webhooks", "reencrypt", "--batch-size", "2", "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ endpoints: 3, current: 0, outdated: 3, reencrypted: 3, unreadable: 0, changed: 0, dryRun: false });
    expect((await storedValues()).map(({ secretEncrypted }) => decryptSecret(secretEncrypted, keyB)).sort()).toEqual([...secrets].sort());

    const after = await outbox({ encryptionKey: keyB }, "webhooks", "keys", "--json");
    expect(JSON.parse(after.stdout)).toMatchObject({ current: { secrets: 3 }, previous: [], unreadable: 0 });
    for (const output of [before, table, dryRun, run, after]) {
      expect(output.stdout + output.stderr).not.toContain(keyA.slice(0, 32));
      expect(output.stdout + output.stderr).not.toContain(keyB.slice(0, 32));
    }
  });

  it("without a key, fails (exit 1) naming ENCRYPTION_KEY and writes nothing", async () => {
    const stored = await storedValues();
    const text = await outbox(undefined, "webhooks", "reencrypt");
    expect(text).toMatchObject({ code: 1, stdout: "" });
    expect(text.stderr).toBe("outbox-relay: no encryption key is set: set ENCRYPTION_KEY (and the old keys in ENCRYPTION_KEY_PREVIOUS)\n");
    const json = await outbox({ encryptionKey: undefined }, "webhooks", "keys", "--json");
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "WEBHOOK_ENCRYPTION_KEY_MISSING" } });
    expect(await storedValues()).toEqual(stored);
  });
});

describe("outbox-relay webhooks resend-all", () => {
  const deliveries = withWebhooks(defineEvents({}));

  it("counts on --dry-run, then queues the endpoint's dead deliveries since then again with their webhook-ids, for the endpoint's tenant", async () => {
    const tenantId = randomUUID();
    const { endpoint } = await createEndpoint(pool, { encryptionKey: keyB, allowPrivateNetworks: true }, { tenantId, url: "http://127.0.0.1:9/", events: ["*"] });
    const since = new Date(Date.now() - 1000);
    const ids = await deliveries.publishMany(
      pool,
      [1, 2, 3].map((n) => ({
        type: "WebhookDelivery" as const,
        payload: { endpointId: endpoint.id, tenantId, type: "order.created", sourceEventId: randomUUID(), data: { n }, occurredAt: new Date().toISOString() },
      })),
    );
    await pool.execute(sql`UPDATE event_outbox SET status = 'dead' WHERE id = ANY(${ids.slice(0, 2)}::uuid[])`);
    await pool.execute(sql`UPDATE event_outbox SET status = 'processed' WHERE id = ${ids[2]!}::uuid`);
    const resends = async () => (await pool.query<{ webhookId: string }>(sql`SELECT payload->>'webhookId' AS "webhookId" FROM event_outbox WHERE aggregate_type = 'webhook_resend' ORDER BY sequence`)).map((row) => row.webhookId);
    const keys = { encryptionKey: keyB };

    const dry = await outbox(keys, "webhooks", "resend-all", endpoint.id, "--since", since.toISOString(), "--dry-run");
    expect(dry).toMatchObject({ code: 0, stderr: "" });
    expect(dry.stdout).toContain("2 failed deliveries since");
    expect(await resends()).toEqual([]);
    expect(JSON.parse((await outbox(keys, "webhooks", "resend-all", endpoint.id, "--since", since.toISOString(), "--all", "--dry-run", "--json")).stdout)).toEqual({ matched: 3, queued: 0 });

    const run = await outbox(keys, "webhooks", "resend-all", endpoint.id, "--since", since.toISOString(), "--json");
    expect(JSON.parse(run.stdout)).toEqual({ matched: 2, queued: 2 });
    expect(await resends()).toEqual(ids.slice(0, 2));

    const unknown = await outbox(keys, "webhooks", "resend-all", randomUUID(), "--since", since.toISOString(), "--json");
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: { code: "WEBHOOK_ENDPOINT_NOT_FOUND" } });
  });
});
