import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase } from "@outbox/testing";
import { createLogger } from "../../src/logger/index.ts";
import { PermanentError } from "../../src/processor/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createEndpoint, createWebhookDeliveryHandler, deleteEndpoint, resendAll, withWebhooks } from "../../src/webhooks/index.ts";
import { defineEvents } from "../../src/events/index.ts";
import { createWebhookDatabase, encryptionKey } from "./fixtures.ts";
import { startReceiver } from "./receiver.ts";

const deliveries = withWebhooks(defineEvents({}));
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

interface Row {
  id: string;
  status: string;
  ordered: boolean;
  aggregateType: string;
  lastError: string | null;
}
const rows = (ids: string[]) =>
  pool.query<Row>(sql`
    SELECT id::text AS id, status, ordered, aggregate_type AS "aggregateType", last_error AS "lastError"
    FROM event_outbox WHERE id = ANY(${ids}::uuid[]) ORDER BY sequence`);
const resendsOf = async (endpointId: string) =>
  pool.query<Row & { webhookId: string }>(sql`
    SELECT id::text AS id, status, ordered, aggregate_type AS "aggregateType", last_error AS "lastError", payload->>'webhookId' AS "webhookId"
    FROM event_outbox WHERE aggregate_type = 'webhook_resend' AND payload->>'endpointId' = ${endpointId} ORDER BY sequence`);

describe("resending every failed delivery of an endpoint", () => {
  it("counts each message by its latest copy; a resend that dies stops holding its order's later ones; deleting the endpoint skips them", async () => {
    const tenantId = randomUUID();
    const { endpoint } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url: "http://127.0.0.1:9/", events: ["*"] });
    const source = randomUUID();
    const since = new Date(Date.now() - 1000);
    const originals = await deliveries.publishMany(
      pool,
      [1, 2, 3].map((n) => ({
        type: "WebhookDelivery" as const,
        payload: { endpointId: endpoint.id, tenantId, type: "order.created", sourceEventId: source, data: { n }, occurredAt: new Date().toISOString() },
      })),
    );
    await pool.execute(sql`UPDATE event_outbox SET status = 'dead' WHERE id = ANY(${originals}::uuid[])`);

    expect(await resendAll(pool, tenantId, endpoint.id, { since, onlyFailed: true, dryRun: false })).toEqual({ matched: 3, queued: 3 });
    const resends = await resendsOf(endpoint.id);
    expect(resends.map((r) => [r.webhookId, r.status, r.ordered])).toEqual(originals.map((id) => [id, "pending", true]));
    expect((await rows(originals)).map((r) => [r.status, r.lastError])).toEqual(resends.map((r) => ["skipped", `sent again by resend-all as ${r.id}`]));
    // Each message counts once, by its latest copy (the pending resend): nothing failed to send again now.
    expect(await resendAll(pool, tenantId, endpoint.id, { since, onlyFailed: true, dryRun: true })).toEqual({ matched: 0, queued: 0 });

    // The first resend fails its last attempt: it is dead, and no longer holds the two behind it.
    const receiver = await startReceiver(() => ({ status: 500 }));
    try {
      await pool.execute(sql`UPDATE webhook_endpoints SET url = ${receiver.url}, retry_schedule = '{0}' WHERE id = ${endpoint.id}::uuid`);
      const handler = createWebhookDeliveryHandler({ encryptionKey, allowPrivateNetworks: true });
      const first = resends[0]!;
      const event = {
        id: first.id,
        type: "WebhookDelivery" as const,
        payload: { endpointId: endpoint.id, tenantId, type: "order.created", sourceEventId: source, data: { n: 1 }, occurredAt: new Date().toISOString(), webhookId: originals[0]! },
        aggregateType: "webhook_resend",
        aggregateId: `${endpoint.id}:webhook_message:${source}`,
        tenantId,
        attempt: 1,
        createdAt: new Date(),
      };
      await expect(handler.run({ db: pool, event, logger: createLogger({ level: "silent" }) })).rejects.toBeInstanceOf(PermanentError);
      expect((await rows([first.id]))[0]).toMatchObject({ ordered: false });
    } finally {
      await receiver.close();
    }
    await pool.execute(sql`UPDATE event_outbox SET status = 'dead' WHERE id = ${resends[0]!.id}::uuid`);
    // The dead resend is the message's latest copy: a later resend-all takes it.
    expect(await resendAll(pool, tenantId, endpoint.id, { since, onlyFailed: true, dryRun: true })).toEqual({ matched: 1, queued: 0 });

    const deleted = await deleteEndpoint(pool, tenantId, endpoint.id);
    expect(deleted.skippedDeliveries).toBe(3);
    expect((await resendsOf(endpoint.id)).map((r) => r.status)).toEqual(["skipped", "skipped", "skipped"]);
  });
});
