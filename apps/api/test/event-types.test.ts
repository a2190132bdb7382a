import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookTypes } from "@outbox/domain";
import { createLogger } from "outbox-relay/logger";
import { createTestRedis, waitFor, type TestRedis } from "@outbox/testing";
import { orderHandlers, startWorker, type RunningWorker } from "@outbox/worker";
import { admin, bearer, get, orderBody, post, seedShop, startApi, workerConfigFor, type ApiHarness, type Auth } from "./helpers.ts";

/**
 * GET /api/event-types, the catalog tenants subscribe from: who may read it, that each example
 * validates against its advertised JSON Schema, that endpoint.disabled is subscribable, and, end
 * to end with the real worker and a receiver on loopback, that what a receiver gets validates too
 * and that docs/webhooks.md's verification snippet accepts it (and refuses it tampered).
 */
const encryptionKey = "event-types-test-encryption-key-32-chars-plus";

interface EventType {
  type: string;
  description: string;
  schema: Record<string, unknown>;
  example: unknown;
}

let api: ApiHarness;
let redis: TestRedis;
let worker: RunningWorker;
let shop: Awaited<ReturnType<typeof seedShop>>;
let catalog: EventType[];

const ajv = new Ajv2020({ strict: true, allErrors: true });
// ajv-formats is CommonJS: its default import is `module.exports`, whose `default` is the plugin.
addFormats.default(ajv);
const validatorOf = (type: string) => {
  const entry = catalog.find((candidate) => candidate.type === type);
  if (!entry) throw new Error(`no ${type} in the catalog`);
  return ajv.getSchema(type) ?? (ajv.addSchema(entry.schema, type), ajv.getSchema(type)!);
};

beforeAll(async () => {
  api = await startApi({ env: { ENCRYPTION_KEY: encryptionKey, WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" } });
  redis = createTestRedis();
  const config = workerConfigFor(api, redis, { ENCRYPTION_KEY: encryptionKey, WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
  worker = await startWorker({ config, handlers: orderHandlers(config), logger: createLogger({ level: "silent" }) });
  shop = await seedShop(api.app, { stock: 5, price: 1250 });
  const answer = await get(api.app, "/api/event-types", shop.auth);
  expect(answer.status).toBe(200);
  catalog = answer.body.eventTypes as EventType[];
});
afterAll(async () => {
  await worker?.stop();
  await redis?.clean();
  await api?.close();
});

describe("GET /api/event-types", () => {
  it("lists every type an endpoint may subscribe to, the engine's endpoint.disabled included", () => {
    expect(catalog.map((entry) => entry.type)).toEqual([...webhookTypes, "endpoint.disabled"]);
    for (const entry of catalog) {
      expect(entry.description.length, entry.type).toBeGreaterThan(10);
      expect(entry.schema, entry.type).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" });
    }
  });

  it("each example validates against its own JSON Schema, and the schemas are not vacuous", () => {
    for (const { type, example } of catalog) {
      const validate = validatorOf(type);
      expect(validate(example), `${type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect(validate({}), `${type} accepts an empty object`).toBe(false);
    }
    const orderCreated = catalog.find((entry) => entry.type === "order.created")!.example as Record<string, unknown>;
    expect(validatorOf("order.created")({ ...orderCreated, status: "paid" })).toBe(false);
    expect(validatorOf("order.created")({ ...orderCreated, totalAmount: 12.5 })).toBe(false);
    // A field added later must not break a receiver that validates: objects are open.
    expect(validatorOf("order.created")({ ...orderCreated, giftWrap: true })).toBe(true);
  });

  it("answers any tenant's key and the admin alike; refuses no key and a wrong one with 401", async () => {
    const byAdmin = await get(api.app, "/api/event-types", admin);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.eventTypes).toEqual(catalog);
    const anonymous = await api.app.inject({ method: "GET", url: "/api/event-types" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe("Bearer");
    expect((await get(api.app, "/api/event-types", bearer(`ok_live_${randomUUID()}`))).status).toBe(401);
  });
});

describe("subscribing to the catalog's types", () => {
  const endpoints = () => `/api/tenants/${shop.tenantId}/webhook-endpoints`;

  it("accepts endpoint.disabled", async () => {
    const created = await post(api.app, endpoints(), { url: "https://hooks.example.com/ops", events: ["endpoint.disabled"] }, shop.auth);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ events: ["endpoint.disabled"], enabled: true });
  });

  it("refuses a type not in the catalog with 400 naming every known type, endpoint.disabled included, and writes nothing", async () => {
    const before = await api.prisma.webhookEndpoint.count();
    const refused = await post(api.app, endpoints(), { url: "https://hooks.example.com/x", events: ["order.created", "order.shipped"] }, shop.auth);
    expect(refused.status).toBe(400);
    const issues = refused.body.issues as { path: string; message: string }[];
    expect(issues.map((issue) => issue.path)).toEqual(["events.1"]);
    for (const type of catalog.map((entry) => entry.type)) expect(issues[0]!.message).toContain(type);
    expect(await api.prisma.webhookEndpoint.count()).toBe(before);
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
const typeOf = (request: Received) => (JSON.parse(request.body) as { type: string }).type;

type Verifier = (rawBody: string, headers: IncomingHttpHeaders) => unknown;

/**
 * docs/webhooks.md's first js snippet, run as written: its module is written to a file with the
 * secret in place of process.env.WEBHOOK_SECRET and this repository's standardwebhooks, and imported.
 */
async function documentedVerifier(secret: string): Promise<{ verifiedBody: Verifier; remove: () => Promise<void> }> {
  const doc = await readFile(new URL("../../../docs/webhooks.md", import.meta.url), "utf8");
  const snippet = /```js\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(snippet).toContain("new Webhook(process.env.WEBHOOK_SECRET)");
  const library = pathToFileURL(createRequire(import.meta.url).resolve("standardwebhooks")).href;
  const directory = await mkdtemp(join(tmpdir(), "webhooks-doc-"));
  const file = join(directory, "verify.mjs");
  await writeFile(file, snippet!.replace('"standardwebhooks"', JSON.stringify(library)).replace("process.env.WEBHOOK_SECRET", JSON.stringify(secret)));
  const module = (await import(pathToFileURL(file).href)) as { verifiedBody: Verifier };
  return { verifiedBody: module.verifiedBody, remove: () => rm(directory, { recursive: true, force: true }) };
}

describe("what a receiver gets", () => {
  it("validates against the advertised schema of its type, and its signature verifies with the standardwebhooks package", async () => {
    const requests: Received[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
      const endpoint = await post(api.app, `/api/tenants/${shop.tenantId}/webhook-endpoints`, { url, events: ["*"] }, shop.auth);
      expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);

      const auth: Auth = shop.auth;
      const order = await post(api.app, "/api/orders", orderBody(shop.tenantId, shop.productId, 2), { ...auth, "idempotency-key": randomUUID() });
      expect(order.status).toBe(201);
      const received = await waitFor(() => requests.find((request) => typeOf(request) === "order.created"), { message: "order.created delivered" });
      const cancel = await post(api.app, `/api/orders/${order.body.id}/cancel`, { reason: "changed my mind" }, auth);
      expect(cancel.status).toBe(202);
      const cancelled = await waitFor(() => requests.find((request) => typeOf(request) === "order.cancelled"), { message: "order.cancelled delivered" });

      const documented = await documentedVerifier(endpoint.body.secret as string);
      try {
        expect(documented.verifiedBody(received.body, received.headers)).toEqual(JSON.parse(received.body));
        expect(documented.verifiedBody(received.body.replace("awaiting_payment", "rejected"), received.headers)).toBeNull();
        expect(documented.verifiedBody(received.body, { ...received.headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 600) })).toBeNull();
      } finally {
        await documented.remove();
      }
      for (const request of [received, cancelled]) {
        const body = new Webhook(endpoint.body.secret as string).verify(request.body, request.headers as Record<string, string>) as { type: string; timestamp: string; data: unknown };
        expect(Object.keys(body).sort()).toEqual(["data", "timestamp", "type"]);
        const validate = validatorOf(body.type);
        expect(validate(body.data), `${body.type}: ${ajv.errorsText(validate.errors)} in ${request.body}`).toBe(true);
      }
      expect((JSON.parse(received.body) as { data: unknown }).data).toMatchObject({ orderId: order.body.id, status: "awaiting_payment", totalAmount: 2500 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
