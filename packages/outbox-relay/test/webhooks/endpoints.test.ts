import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase } from "@outbox/testing";
import { Database, sql } from "../../src/sql/index.ts";
import {
  createEndpoint,
  decryptSecret,
  deleteEndpoint,
  disableEndpoint,
  enableEndpoint,
  EndpointLimitError,
  EndpointNotFoundError,
  fanOutWebhooks,
  InvalidEndpointError,
  listEndpoints,
  rotateSecret,
  type EndpointSettings,
} from "../../src/webhooks/index.ts";
import { createWebhookDatabase, encryptionKey } from "./fixtures.ts";

let database: TestDatabase;
let db: Database;
const settings: EndpointSettings = { encryptionKey, allowPrivateNetworks: false };

beforeAll(async () => {
  database = await createWebhookDatabase();
  db = new Database(database.url, { poolSize: 4 });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const make = (tenantId: string | null, events: string[], options: Partial<EndpointSettings> = {}) =>
  createEndpoint(db, { ...settings, ...options }, { tenantId, url: "https://hooks.example.com/x", events }).then((created) => created.endpoint.id);

/** The endpoints the fan-out addressed deliveries to, for one notification. */
async function fannedOutTo(tenantId: string | null, type: string): Promise<string[]> {
  const sourceEventId = randomUUID();
  await db.transaction((tx) => fanOutWebhooks(tx, [{ sourceEventId, tenantId, type, data: { n: 1 } }]));
  const rows = await db.query<{ endpointId: string }>(
    sql`SELECT payload->>'endpointId' AS "endpointId" FROM event_outbox WHERE causation_id = ${sourceEventId}::uuid AND event_type = 'WebhookDelivery'`,
  );
  return rows.map((row) => row.endpointId).sort();
}

describe("endpoints and their subscriptions", () => {
  it("fan out to the tenant's enabled endpoints whose filter names the type or is *; never another tenant's", async () => {
    const tenantId = randomUUID();
    const orders = await make(tenantId, ["order.created", "order.cancelled"]);
    const all = await make(tenantId, ["*"]);
    await make(tenantId, ["payment.completed"]);
    const off = await make(tenantId, ["order.created"]);
    await disableEndpoint(db, tenantId, off);
    await make(randomUUID(), ["*"]);
    await make(null, ["*"]);

    expect(await fannedOutTo(tenantId, "order.created")).toEqual([orders, all].sort());
    expect(await fannedOutTo(tenantId, "product.created")).toEqual([all]);
    expect(await listEndpoints(db, tenantId)).toHaveLength(4);
  });

  it("without a tenant: endpoints of no tenant, reached by events of no tenant only", async () => {
    const service = await make(null, ["AccountOpened"]);
    const tenantId = randomUUID();
    await make(tenantId, ["AccountOpened"]);
    expect(await fannedOutTo(null, "AccountOpened")).toContain(service);
    expect(await fannedOutTo(tenantId, "AccountOpened")).not.toContain(service);
    expect((await listEndpoints(db, null)).map((endpoint) => endpoint.id)).toContain(service);
    expect(await fannedOutTo("not-a-uuid", "AccountOpened")).toEqual([]);
  });

  it("take only the event types given, naming them, and a UUID tenant", async () => {
    const typed = { ...settings, eventTypes: ["AccountOpened", "AccountClosed"] };
    const refused = await createEndpoint(db, typed, { url: "https://hooks.example.com/", events: ["AccountOpened", "Nope"] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidEndpointError);
    expect((refused as InvalidEndpointError).issues).toEqual([{ path: "events.1", message: 'must be one of AccountOpened, AccountClosed or "*"' }]);
    await expect(createEndpoint(db, settings, { tenantId: "acme", url: "https://hooks.example.com/", events: ["*"] })).rejects.toThrow(/tenantId must be a UUID/);
  });

  it("stop at the per-tenant cap, also when registrations race for the last place", async () => {
    const tenantId = randomUUID();
    const cap = { maxEndpointsPerTenant: 3 };
    await make(tenantId, ["*"], cap);
    const racing = await Promise.allSettled([1, 2, 3, 4].map(() => make(tenantId, ["*"], cap)));
    expect(racing.filter((result) => result.status === "fulfilled")).toHaveLength(2);
    const refused = racing.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    expect(refused).toEqual([expect.any(EndpointLimitError), expect.any(EndpointLimitError)]);
    expect(await listEndpoints(db, tenantId)).toHaveLength(3);
  });

  it("disable, enable (forgetting failures), rotate (the old secret signs on) and delete, each for its own tenant only", async () => {
    const tenantId = randomUUID();
    const { endpoint, secret } = await createEndpoint(db, settings, { tenantId, url: "https://hooks.example.com/r", events: ["*"] });
    await db.execute(sql`UPDATE webhook_endpoints SET consecutive_failures = 4 WHERE id = ${endpoint.id}::uuid`);
    await expect(disableEndpoint(db, randomUUID(), endpoint.id)).rejects.toBeInstanceOf(EndpointNotFoundError);
    await expect(disableEndpoint(db, null, endpoint.id)).rejects.toBeInstanceOf(EndpointNotFoundError);
    expect(await disableEndpoint(db, tenantId, endpoint.id, "maintenance")).toMatchObject({ enabled: false, disabledReason: "maintenance" });
    expect(await enableEndpoint(db, tenantId, endpoint.id)).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });

    const rotated = await rotateSecret(db, settings, tenantId, endpoint.id);
    const [stored] = await db.query<{ current: string; previous: string }>(
      sql`SELECT secret_encrypted AS current, previous_secret_encrypted AS previous FROM webhook_endpoints WHERE id = ${endpoint.id}::uuid`,
    );
    expect(decryptSecret(stored!.current, encryptionKey)).toBe(rotated.secret);
    expect(decryptSecret(stored!.previous, encryptionKey)).toBe(secret);
    expect(rotated.endpoint.previousSecretExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);

    await expect(deleteEndpoint(db, randomUUID(), endpoint.id)).rejects.toBeInstanceOf(EndpointNotFoundError);
    expect(await deleteEndpoint(db, tenantId, endpoint.id.toUpperCase())).toEqual({ id: endpoint.id, skippedDeliveries: 0 });
    expect(await listEndpoints(db, tenantId)).toEqual([]);
  });
});
