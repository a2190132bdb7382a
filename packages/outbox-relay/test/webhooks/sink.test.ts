import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createTestRedis, databaseUrl, dropDatabase, onServer, testEvents, uniqueName, waitFor, type TestRedis } from "@outbox/testing";
// A service's view: the package's public entry points only.
import { Database, migrate, sql, startWorker, type RunningWorker } from "outbox-relay";
import { createEndpoint, webhookHandlers, withWebhooks } from "outbox-relay/webhooks";
import { startReceiver, webhookHeaders, type Receiver } from "./receiver.ts";

const encryptionKey = "sink-test-encryption-key-of-32-chars-plus";
const events = withWebhooks(testEvents);
const name = uniqueName("outbox_sink");

let db: Database;
let redis: TestRedis;
let receiver: Receiver;
let worker: RunningWorker;
const opened: string[] = [];

beforeAll(async () => {
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  await migrate(databaseUrl(name));
  db = new Database(databaseUrl(name), { poolSize: 2 });
  redis = createTestRedis();
  receiver = await startReceiver(() => ({ status: 204 }));
  // The service's own handler of one type; the sink adds the fan-out to it and to every other type.
  const handlers = { AccountOpened: async ({ event }: { event: { id: string } }) => void opened.push(event.id) };
  worker = await startWorker({
    catalog: events,
    handlers: webhookHandlers(events, handlers, { encryptionKey, allowPrivateNetworks: true }),
    databaseUrl: databaseUrl(name),
    redisUrl: redis.url,
    queuePrefix: redis.prefix,
    scanCron: "*/1 * * * * *",
  });
});
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await db?.close();
  await redis?.clean();
  await dropDatabase(name);
});

const rowsOf = (type: string) =>
  db.query<{ id: string; status: string }>(sql`SELECT id::text AS id, status FROM event_outbox WHERE event_type = ${type} ORDER BY sequence`);

describe("the webhook sink, as a service uses it", () => {
  it("an endpoint subscribed to one type receives exactly that event, once, signed with its secret", async () => {
    const settings = { encryptionKey, allowPrivateNetworks: true, eventTypes: testEvents.types };
    const { endpoint, secret } = await createEndpoint(db, settings, { url: receiver.url, events: ["AccountOpened"] });
    expect(endpoint).toMatchObject({ tenantId: null, events: ["AccountOpened"], enabled: true });

    const accountId = randomUUID();
    const openedAt = new Date().toISOString();
    const [openedId, closedId] = await events.publishMany(db, [
      { type: "AccountOpened", payload: { accountId, name: "Acme", slug: "acme", openedAt } },
      { type: "AccountClosed", payload: { accountId, reason: "done", closedAt: openedAt } },
    ]);
    await waitFor(async () => (await rowsOf("AccountClosed")).some((row) => row.id === closedId && row.status === "processed"), {
      timeoutMs: 20_000,
      message: "both events handled",
    });
    // Each event's deliveries commit with its processed mark: none can appear after this.
    const deliveries = await rowsOf("WebhookDelivery");
    expect(deliveries).toHaveLength(1);
    await waitFor(async () => (await rowsOf("WebhookDelivery"))[0]!.status === "processed", { timeoutMs: 20_000, message: "the delivery sent" });

    expect(opened).toEqual([openedId]);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.headers["webhook-id"]).toBe(deliveries[0]!.id);
    const body = new Webhook(secret).verify(request!.body, webhookHeaders(request!)) as { type: string; timestamp: string; data: unknown };
    expect(body).toMatchObject({ type: "AccountOpened", data: { accountId, name: "Acme", slug: "acme", openedAt } });
    expect(Date.parse(body.timestamp)).toBeGreaterThan(0);
  });
});
