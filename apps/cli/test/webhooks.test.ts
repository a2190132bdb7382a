import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database, sql } from "outbox-relay";
import { createEndpoint, decryptSecret, encryptionKeyId } from "outbox-relay/webhooks";
import { createTestDatabase, forbidModules, freePort, prismaModules, type TestDatabase } from "@outbox/testing";

const mainScript = path.resolve(import.meta.dirname, "../src/main.ts");
const oldKey = "An old encryption key of 32 characters or more: 0ld";
const newKey = "The new encryption key of 32 characters or more: n3w";
let shop: TestDatabase;
let pool: Database;

beforeAll(async () => {
  shop = await createTestDatabase();
  pool = new Database(shop.url, { poolSize: 2 });
});
afterAll(async () => {
  await pool.close();
  await shop.drop();
});

/** `pnpm outbox ...` (node --import tsx apps/cli/src/main.ts) on this test's database, in a process that fails if it loads Prisma; no Redis anywhere. */
async function outbox(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const noPrisma = forbidModules(prismaModules);
  const fullEnv = { ...process.env, ...noPrisma.env, DATABASE_URL: shop.url, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, LOG_LEVEL: "silent", ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...noPrisma.execArgv, mainScript, ...args], { env: fullEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("pnpm outbox webhooks", () => {
  it("re-encrypts the shop's endpoint secrets from ENCRYPTION_KEY_PREVIOUS to ENCRYPTION_KEY, and reports none left under the old key", async () => {
    const tenantId = randomUUID();
    await pool.execute(sql`INSERT INTO tenants (id, name, slug) VALUES (${tenantId}::uuid, 'Acme', ${`acme-${tenantId}`})`);
    const { secret } = await createEndpoint(pool, { encryptionKey: oldKey, allowPrivateNetworks: true }, { tenantId, url: "http://127.0.0.1:9/", events: ["*"] });
    const rotation = { ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey };

    const run = await outbox(rotation, "webhooks", "reencrypt", "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ endpoints: 1, reencrypted: 1, unreadable: 0 });
    const [row] = await pool.query<{ secretEncrypted: string }>(sql`SELECT secret_encrypted AS "secretEncrypted" FROM webhook_endpoints`);
    expect(decryptSecret(row!.secretEncrypted, newKey)).toBe(secret);

    const keys = await outbox(rotation, "webhooks", "keys", "--json");
    expect(JSON.parse(keys.stdout)).toMatchObject({
      current: { keyId: encryptionKeyId(newKey), secrets: 1 },
      previous: [{ position: 1, keyId: encryptionKeyId(oldKey), secrets: 0 }],
    });
  });

  it("refuses a short key in ENCRYPTION_KEY_PREVIOUS naming the variable, and never prints it", async () => {
    const run = await outbox({ ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: `${oldKey},short-old-key` }, "webhooks", "keys");
    expect(run.code).toBe(78);
    expect(run.stderr).toContain("ENCRYPTION_KEY_PREVIOUS key 2 of 2 must be at least 32 characters");
    expect(run.stderr).not.toContain("short-old-key");
  });
});
