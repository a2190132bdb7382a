import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createTestRedis, testEvents, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker } from "../../src/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { PermanentError } from "../../src/processor/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import {
  createEndpoint,
  createWebhookDeliveryHandler,
  encryptionKeyId,
  rotateSecret,
  SecretDecryptionError,
  secretKeyReport,
  withWebhooks,
  type EncryptionKeys,
} from "../../src/webhooks/index.ts";
import { createWebhookDatabase, deliveryEvent } from "./fixtures.ts";
import { startReceiver, webhookHeaders, type ReceivedRequest, type Receiver } from "./receiver.ts";

// Rotating the master key while webhooks flow. Key A is the old key, B the new one. The procedure
// (docs/security.md: "Rotating ENCRYPTION_KEY"): 1. every process reads B too (ENCRYPTION_KEY=A,
// ENCRYPTION_KEY_PREVIOUS=B); 2. every process writes B and reads A (ENCRYPTION_KEY=B,
// ENCRYPTION_KEY_PREVIOUS=A), the workers re-encrypting at start; 3. A is dropped.
const keyA = "a".repeat(32) + "-the-old-encryption-key";
const keyB = "b".repeat(32) + "-the-new-encryption-key";
const events = withWebhooks(testEvents);

interface Line {
  msg: string;
  level: number;
  err?: { type: string; code: string; stack: string };
  reencrypted?: number;
  outdated?: number;
  current?: number;
  unreadable?: number;
  changed?: number;
}

let database: TestDatabase;
let redis: TestRedis;
let pool: Database;
const running = new Set<RunningWorker>();
const receivers: Receiver[] = [];

beforeAll(async () => {
  database = await createWebhookDatabase();
  redis = createTestRedis();
  pool = new Database(database.url, { poolSize: 4 });
});
afterEach(async () => {
  await Promise.all([...running].map((worker) => worker.stop()));
  running.clear();
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});
afterAll(async () => {
  await pool?.close();
  await redis?.clean();
  await database?.drop();
});

/** A worker whose deliveries and start-up re-encryption use these keys, its log lines kept. */
async function workerWith(keys: EncryptionKeys, lines: Line[] = []): Promise<RunningWorker> {
  const handler = createWebhookDeliveryHandler({ ...keys, allowPrivateNetworks: true, timeoutMs: 5000 });
  const worker = await startWorker({
    catalog: events,
    handlers: { WebhookDelivery: handler },
    databaseUrl: database.url,
    redisUrl: redis.url,
    queuePrefix: redis.prefix,
    scanCron: "*/1 * * * * *",
    shutdownTimeoutMs: 5000,
    healthPort: 0,
    webhookKeys: keys,
    logger: createLogger({ level: "info", destination: { write: (text: string) => void lines.push(JSON.parse(text) as Line) } }),
  });
  running.add(worker);
  return worker;
}

async function stopWorker(worker: RunningWorker): Promise<void> {
  running.delete(worker);
  await worker.stop();
}

/** An endpoint on its own loopback receiver; `secrets` holds every secret it was given, newest last. */
interface Target {
  id: string;
  tenantId: string;
  receiver: Receiver;
  secrets: string[];
}

async function target(encryptionKey: string): Promise<Target> {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const tenantId = randomUUID();
  const { endpoint, secret } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url: receiver.url, events: ["*"] });
  return { id: endpoint.id, tenantId, receiver, secrets: [secret] };
}

const published: string[] = [];

async function publishTo(endpoint: Target): Promise<string> {
  const id = await events.publish(pool, {
    type: "WebhookDelivery",
    payload: { endpointId: endpoint.id, tenantId: endpoint.tenantId, type: "order.created", sourceEventId: randomUUID(), data: { n: published.length }, occurredAt: new Date().toISOString() },
  });
  published.push(id);
  return id;
}

/** Publishes a delivery to every target every 100 ms until stopped: the traffic the rotation happens under. */
function traffic(targets: Target[]): { stop(): Promise<void> } {
  let round = Promise.resolve();
  const timer = setInterval(() => {
    round = round.then(async () => void (await Promise.all(targets.map(publishTo))));
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await round;
    },
  };
}

const unfinished = async () =>
  (await pool.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM event_outbox WHERE id = ANY(${published}::uuid[]) AND status <> 'processed'`))[0]!.n;
const failedAttempts = () => pool.query<{ error: string }>(sql`SELECT error FROM webhook_attempts WHERE error IS NOT NULL OR status_code <> 200`);
const verifies = (secret: string, request: ReceivedRequest) => {
  try {
    new Webhook(secret).verify(request.body, webhookHeaders(request));
    return true;
  } catch {
    return false;
  }
};

describe("rotating the encryption key while webhooks are delivered", () => {
  it("every endpoint keeps delivering verifiable requests through the switch and the re-encryption, and then under the new key alone", async () => {
    const targets = await Promise.all([target(keyA), target(keyA), target(keyA)]);
    // Step 1 done: the running worker writes A and can already read B.
    const before = await workerWith({ encryptionKey: keyA, previousEncryptionKeys: [keyB] });
    const load = traffic(targets);
    await waitFor(() => targets.every((t) => t.receiver.requests.length >= 2), { timeoutMs: 20_000, message: "deliveries under key A" });

    // Step 2, mid-traffic: the API writes B (a new endpoint, a rotated secret) and a worker of B-reading-A joins.
    const added = await target(keyB);
    targets.push(added);
    const rotatedTarget = targets[0];
    rotatedTarget.secrets.push((await rotateSecret(pool, { encryptionKey: keyB }, rotatedTarget.tenantId, rotatedTarget.id)).secret);
    const lines: Line[] = [];
    const after = await workerWith({ encryptionKey: keyB, previousEncryptionKeys: [keyA] }, lines);
    const done = await waitFor(() => lines.find((line) => line.msg === "webhook secrets re-encrypted under the current encryption key"), { message: "the re-encryption line" });
    // Outdated: two endpoints' secrets and the rotated one's previous secret, all under A.
    expect(done).toMatchObject({ level: 30, outdated: 3, reencrypted: 3, current: 2, unreadable: 0, changed: 0 });
    await stopWorker(before);
    const counts = targets.map((t) => t.receiver.requests.length);
    await waitFor(() => targets.every((t, i) => t.receiver.requests.length >= counts[i]! + 2), { timeoutMs: 20_000, message: "deliveries after the switch" });
    await load.stop();
    await waitFor(async () => (await unfinished()) === 0, { timeoutMs: 30_000, message: "every delivery processed" });
    await stopWorker(after);

    expect(await secretKeyReport(pool, { encryptionKey: keyB, previousEncryptionKeys: [keyA] })).toEqual({
      endpoints: 4,
      current: { keyId: encryptionKeyId(keyB), secrets: 5 },
      previous: [{ position: 1, keyId: encryptionKeyId(keyA), secrets: 0 }],
      unreadable: 0,
      v1Format: 0,
    });

    // Step 3: A is gone; a worker with B alone delivers to every endpoint.
    await workerWith({ encryptionKey: keyB });
    const last = await Promise.all(targets.map(publishTo));
    await waitFor(async () => (await unfinished()) === 0, { timeoutMs: 30_000, message: "the deliveries under key B alone" });

    expect(await failedAttempts()).toEqual([]);
    for (const t of targets) {
      // Two before the switch (not the added one), two after it, and the last.
      expect(t.receiver.requests.length).toBeGreaterThanOrEqual(t === added ? 3 : 5);
      for (const request of t.receiver.requests) expect(t.secrets.some((secret) => verifies(secret, request)), `a request to ${t.id}`).toBe(true);
      const final = t.receiver.requests.filter((request) => last.includes(String(request.headers["webhook-id"])));
      expect(final).toHaveLength(1);
      expect(verifies(t.secrets.at(-1)!, final[0]!)).toBe(true);
    }
    const delivered = new Set(targets.flatMap((t) => t.receiver.requests.map((request) => String(request.headers["webhook-id"]))));
    expect(published.filter((id) => !delivered.has(id))).toEqual([]);
  });

  it("a re-encryption that fails is logged with its stack and the worker runs on", async () => {
    const lines: Line[] = [];
    const worker = await workerWith({ encryptionKey: undefined, previousEncryptionKeys: [keyA] }, lines);
    const failed = await waitFor(() => lines.find((line) => line.level === 50), { message: "the error line" });
    expect(failed.msg).toMatch(/^could not re-encrypt the webhook secrets/);
    expect(failed.err).toMatchObject({ type: "EncryptionKeyMissingError", code: "WEBHOOK_ENCRYPTION_KEY_MISSING", stack: expect.stringContaining("reencrypt") as string });
    expect(lines.findIndex((line) => line.msg === "worker started")).toBeLessThan(lines.indexOf(failed));
    expect(JSON.stringify(lines)).not.toContain(keyA.slice(0, 32));
    const { status } = await fetch(`http://127.0.0.1:${worker.healthPort}/healthz`).catch(() => ({ status: 0 }));
    expect(status).toBe(200);
  });

  it("a secret under no key the worker has fails the delivery permanently and sends nothing", async () => {
    const endpoint = await target(keyA);
    const handler = createWebhookDeliveryHandler({ encryptionKey: keyB, allowPrivateNetworks: true, timeoutMs: 5000 });
    const event = deliveryEvent(endpoint.id, endpoint.tenantId);
    const error = await handler.run({ db: pool, event, logger: createLogger({ level: "silent" }) }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).cause).toBeInstanceOf(SecretDecryptionError);
    expect((error as Error).message).toContain(`it is under key ${encryptionKeyId(keyA)}, which is neither the current encryption key (${encryptionKeyId(keyB)}) nor a previous one`);
    expect(endpoint.receiver.requests).toEqual([]);
    const [attempt] = await pool.query<{ statusCode: number | null; error: string }>(
      sql`SELECT status_code AS "statusCode", error FROM webhook_attempts WHERE event_id = ${event.id}::uuid`,
    );
    expect(attempt).toEqual({ statusCode: null, error: expect.stringContaining("webhook secret cannot be decrypted") as string });
  });
});
