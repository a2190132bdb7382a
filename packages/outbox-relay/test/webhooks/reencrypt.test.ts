import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestDatabase } from "@outbox/testing";
import { Database, sql, type Queryable, type Statement } from "../../src/sql/index.ts";
import {
  createEndpoint,
  decryptSecret,
  EncryptionKeyMissingError,
  encryptionKeyId,
  encryptSecret,
  reencryptSecrets,
  rotateSecret,
  secretKeyReport,
} from "../../src/webhooks/index.ts";
import { createWebhookDatabase, encryptSecretV1 } from "./fixtures.ts";

const keyA = "a".repeat(32) + "-the-old-encryption-key";
const keyB = "b".repeat(32) + "-the-new-encryption-key";
const keyX = "x".repeat(32) + "-a-key-nobody-has-any-more";

let database: TestDatabase;
let pool: Database;

beforeAll(async () => {
  database = await createWebhookDatabase();
  pool = new Database(database.url, { poolSize: 4 });
});
afterAll(async () => {
  await pool?.close();
  await database?.drop();
});
beforeEach(async () => {
  await pool.execute(sql`DELETE FROM webhook_endpoints`);
});

interface StoredRow {
  id: string;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  updatedAt: Date;
}

const storedRows = () =>
  pool.query<StoredRow>(sql`
    SELECT id::text AS id, secret_encrypted AS "secretEncrypted", previous_secret_encrypted AS "previousSecretEncrypted", updated_at AS "updatedAt"
    FROM webhook_endpoints ORDER BY id`);

async function endpointUnder(encryptionKey: string) {
  return createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId: randomUUID(), url: "http://127.0.0.1:9/hooks", events: ["*"] });
}

async function storeSecret(id: string, secretEncrypted: string) {
  await pool.execute(sql`UPDATE webhook_endpoints SET secret_encrypted = ${secretEncrypted} WHERE id = ${id}::uuid`);
}

/**
 * Five endpoints under key A (one rotated, so its previous secret is stored too, one in the v1
 * format), one already under key B, one under a key nobody has: 8 stored values. Returns each
 * endpoint's plain secrets, current first.
 */
async function mixedEndpoints(): Promise<Map<string, string[]>> {
  const secrets = new Map<string, string[]>();
  for (let i = 0; i < 4; i++) {
    const { endpoint, secret } = await endpointUnder(keyA);
    secrets.set(endpoint.id, [secret]);
  }
  const [rotatedId, v1Id] = [...secrets.keys()] as [string, string];
  const rotated = await rotateSecret(pool, { encryptionKey: keyA }, await storedTenant(rotatedId), rotatedId);
  secrets.set(rotatedId, [rotated.secret, ...secrets.get(rotatedId)!]);
  await storeSecret(v1Id, encryptSecretV1(secrets.get(v1Id)![0]!, keyA));
  const underB = await endpointUnder(keyB);
  secrets.set(underB.endpoint.id, [underB.secret]);
  const lost = await endpointUnder(keyX);
  secrets.set(lost.endpoint.id, [lost.secret]);
  return secrets;
}

const storedTenant = async (id: string) => (await pool.query<{ tenantId: string }>(sql`SELECT tenant_id::text AS "tenantId" FROM webhook_endpoints WHERE id = ${id}::uuid`))[0]!.tenantId;

describe("re-encrypting the webhook secrets under a new key", () => {
  it("writes every value under a previous key (or in the v1 format) again under the current key, in batches, and leaves the unreadable one", async () => {
    const secrets = await mixedEndpoints();
    const before = await storedRows();
    const lostId = [...secrets.keys()].at(-1)!;

    expect(await secretKeyReport(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA] })).toEqual({
      endpoints: 6,
      current: { keyId: encryptionKeyId(keyB), secrets: 1 },
      previous: [{ position: 1, keyId: encryptionKeyId(keyA), secrets: 5 }],
      unreadable: 1,
      v1Format: 1,
    });

    const result = await reencryptSecrets(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA], batchSize: 2 });
    expect(result).toEqual({ endpoints: 6, current: 1, outdated: 5, reencrypted: 5, unreadable: 1, changed: 0 });

    const after = await storedRows();
    for (const row of after) {
      if (row.id === lostId) continue;
      const [secret, previous] = secrets.get(row.id)!;
      expect(row.secretEncrypted.startsWith(`v2:${encryptionKeyId(keyB)}:`)).toBe(true);
      expect(decryptSecret(row.secretEncrypted, keyB)).toBe(secret);
      expect(row.previousSecretEncrypted === null ? null : decryptSecret(row.previousSecretEncrypted, keyB)).toBe(previous ?? null);
    }
    // The unreadable value is kept as it was (the key may yet be found); no endpoint looks changed to its tenant.
    expect(after.find((row) => row.id === lostId)).toEqual(before.find((row) => row.id === lostId));
    expect(after.map((row) => row.updatedAt)).toEqual(before.map((row) => row.updatedAt));

    expect(await secretKeyReport(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA] })).toMatchObject({
      current: { secrets: 6 },
      previous: [{ position: 1, secrets: 0 }],
      unreadable: 1,
      v1Format: 0,
    });
    // Run again: nothing left to do.
    expect(await reencryptSecrets(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA] })).toMatchObject({ outdated: 0, reencrypted: 0, current: 6 });
  });

  it("a dry run counts and writes nothing", async () => {
    await mixedEndpoints();
    const before = await storedRows();
    expect(await reencryptSecrets(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA], dryRun: true })).toEqual({
      endpoints: 6,
      current: 1,
      outdated: 5,
      reencrypted: 0,
      unreadable: 1,
      changed: 0,
    });
    expect(await storedRows()).toEqual(before);
  });

  it("a rotate-secret between its read and its write wins: the row is left for the next pass, which takes it", async () => {
    const { endpoint } = await endpointUnder(keyA);
    const tenantId = await storedTenant(endpoint.id);
    let rotated: string | undefined;
    // The real database, with a rotate-secret committed just before the pass's UPDATE runs.
    const racing: Queryable = {
      query: async <Row>(statement: Statement) => {
        if (statement.text.trimStart().startsWith("UPDATE") && rotated === undefined) {
          rotated = (await rotateSecret(pool, { encryptionKey: keyB }, tenantId, endpoint.id)).secret;
        }
        return pool.query<Row>(statement);
      },
      execute: (statement) => pool.execute(statement),
    };
    expect(await reencryptSecrets(racing, { encryptionKey: keyB, previousEncryptionKeys: [keyA] })).toMatchObject({ outdated: 1, reencrypted: 0, changed: 1 });
    const [row] = await storedRows();
    expect(decryptSecret(row!.secretEncrypted, keyB)).toBe(rotated);
    expect(row!.previousSecretEncrypted!.startsWith(`v2:${encryptionKeyId(keyA)}:`)).toBe(true);

    expect(await reencryptSecrets(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA] })).toMatchObject({ outdated: 1, reencrypted: 1, changed: 0 });
    const [done] = await storedRows();
    expect(done!.secretEncrypted).toBe(row!.secretEncrypted);
    expect(done!.previousSecretEncrypted!.startsWith(`v2:${encryptionKeyId(keyB)}:`)).toBe(true);
  });

  it("stops between batches when its signal aborts; a later pass finishes the rest", async () => {
    for (let i = 0; i < 4; i++) await endpointUnder(keyA);
    const controller = new AbortController();
    let batches = 0;
    const stopping: Queryable = {
      query: async <Row>(statement: Statement) => {
        const rows = await pool.query<Row>(statement);
        if (statement.text.trimStart().startsWith("UPDATE") && ++batches === 1) controller.abort();
        return rows;
      },
      execute: (statement) => pool.execute(statement),
    };
    expect(await reencryptSecrets(stopping, { encryptionKey: keyB, previousEncryptionKeys: [keyA], batchSize: 2, signal: controller.signal })).toMatchObject({ reencrypted: 2 });
    expect(await reencryptSecrets(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA], batchSize: 2 })).toMatchObject({ current: 2, reencrypted: 2 });
  });

  it("needs the current key and a positive batch size: else it throws, naming what is wrong, and writes nothing", async () => {
    await storeSecret((await endpointUnder(keyA)).endpoint.id, encryptSecret("whsec_x", keyA));
    const before = await storedRows();
    await expect(reencryptSecrets(pool, { encryptionKey: undefined, previousEncryptionKeys: [keyA] })).rejects.toThrow(EncryptionKeyMissingError);
    await expect(secretKeyReport(pool, { encryptionKey: undefined })).rejects.toThrow(EncryptionKeyMissingError);
    await expect(reencryptSecrets(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA], batchSize: 0 })).rejects.toThrow("batchSize must be a positive whole number, not 0");
    expect(await storedRows()).toEqual(before);
  });
});
