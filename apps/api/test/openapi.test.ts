import { randomUUID } from "node:crypto";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, insertDeadEvent, orderBody, post, seedShop, startApi, type ApiHarness, type Auth } from "./helpers.ts";

/**
 * The OpenAPI document at /docs/json is a valid OpenAPI 3 document, and the API answers as it
 * says: every documented operation is called (with credentials that pass), and each answer's
 * status is one the operation declares and its body matches that status's declared schema.
 */

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
  requestBody?: unknown;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components?: unknown };
type Call = Omit<InjectOptions, "method" | "url"> & { url: string };

let api: ApiHarness;
let shop: Awaited<ReturnType<typeof seedShop>>;
let document: Document;
/** The document with every $ref resolved, to compile each response schema alone. */
let resolved: Document;

beforeAll(async () => {
  api = await startApi({ queues: true, env: { ENCRYPTION_KEY: "openapi-test-encryption-key-of-32-chars-plus" } });
  shop = await seedShop(api.app, { stock: 1000 });
  const response = await api.app.inject({ method: "GET", url: "/docs/json" });
  expect(response.statusCode).toBe(200);
  document = response.json<Document>();
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
  expect(result.valid).toBe(true);
  resolved = validator.resolveRefs() as Document;
});
afterAll(async () => {
  await api.close();
});

/** A pending order of the seeded shop, through the API. */
async function newOrder(): Promise<string> {
  const order = await post(api.app, "/api/orders", orderBody(shop.tenantId, shop.productId, 1), shop.auth);
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  return order.body.id;
}

/** An order whose stock is reserved, so that it takes a payment (what OrderCreated's handler would do). */
async function payableOrder(): Promise<{ orderId: string; amount: number }> {
  const orderId = await newOrder();
  await api.prisma.order.update({ where: { id: orderId }, data: { status: "awaiting_payment" } });
  return { orderId, amount: shop.price };
}

async function openPayment(): Promise<string> {
  const { orderId, amount } = await payableOrder();
  const payment = await post(api.app, "/api/payments", { orderId, amount }, shop.auth);
  expect(payment.status, JSON.stringify(payment.body)).toBe(201);
  return payment.body.id;
}

const deadEvent = () => insertDeadEvent(api.sql);

/**
 * A request each operation accepts, by `METHOD /path` as the document spells it. An operation
 * with none here is still called, with unknown ids and an empty body, and must refuse as it
 * documents; add one here to have its success checked too.
 */
const accepted: Record<string, () => Promise<Call>> = {
  "GET /healthz": async () => ({ url: "/healthz" }),
  "GET /readyz": async () => ({ url: "/readyz" }),
  "GET /metrics": async () => ({ url: "/metrics", headers: admin }),
  "POST /api/tenants": async () => ({ url: "/api/tenants", payload: { name: "Docs", slug: `docs-${randomUUID().slice(0, 8)}` }, headers: admin }),
  "POST /api/users": async () => ({ url: "/api/users", payload: { tenantId: shop.tenantId, email: `${randomUUID()}@example.com`, role: "customer" } }),
  "POST /api/tenants/{id}/api-keys": async () => ({ url: `/api/tenants/${shop.tenantId}/api-keys`, payload: { name: "docs" } }),
  "GET /api/tenants/{id}/api-keys": async () => ({ url: `/api/tenants/${shop.tenantId}/api-keys` }),
  "DELETE /api/tenants/{id}/api-keys/{keyId}": async () => {
    const key = await post(api.app, `/api/tenants/${shop.tenantId}/api-keys`, {}, shop.auth);
    return { url: `/api/tenants/${shop.tenantId}/api-keys/${key.body.id}` };
  },
  "POST /api/products": async () => ({
    url: "/api/products",
    payload: { tenantId: shop.tenantId, sellerId: shop.sellerId, categoryId: "books", name: "Another book", price: 990, stock: 3 },
  }),
  "GET /api/products/{id}": async () => ({ url: `/api/products/${shop.productId}` }),
  "POST /api/orders": async () => ({ url: "/api/orders", payload: orderBody(shop.tenantId, shop.productId, 1), headers: { "idempotency-key": randomUUID() } }),
  "GET /api/orders/{id}": async () => ({ url: `/api/orders/${await newOrder()}` }),
  "POST /api/orders/{id}/cancel": async () => ({ url: `/api/orders/${await newOrder()}/cancel`, payload: { reason: "changed my mind" } }),
  "POST /api/payments": async () => ({ url: "/api/payments", payload: await payableOrder() }),
  "GET /api/payments/{id}": async () => ({ url: `/api/payments/${await openPayment()}` }),
  "POST /api/payments/{id}/complete": async () => ({ url: `/api/payments/${await openPayment()}/complete`, payload: { succeeded: true } }),
  "GET /api/events/{id}": async () => {
    const order = await post(api.app, "/api/orders", orderBody(shop.tenantId, shop.productId, 1), shop.auth);
    return { url: `/api/events/${order.body.eventId}` };
  },
  "GET /api/event-types": async () => ({ url: "/api/event-types" }),
  "GET /admin/api/stats": async () => ({ url: "/admin/api/stats" }),
  "POST /admin/api/replay": async () => ({ url: "/admin/api/replay", payload: { type: "TenantCreated", since: new Date(Date.now() - 60_000).toISOString() } }),
  "GET /admin/api/dlq": async () => ({ url: "/admin/api/dlq?limit=10" }),
  "POST /admin/api/dlq/{id}/retry": async () => ({ url: `/admin/api/dlq/${await deadEvent()}/retry` }),
  "POST /admin/api/dlq/{id}/skip": async () => ({ url: `/admin/api/dlq/${await deadEvent()}/skip` }),
  "POST /admin/api/dlq/retry-all": async () => ({ url: "/admin/api/dlq/retry-all" }),
  "GET /admin/outbox/api/events": async () => ({ url: "/admin/outbox/api/events?status=dead&limit=5" }),
  "GET /admin/outbox/api/events/{id}": async () => ({ url: `/admin/outbox/api/events/${await deadEvent()}` }),
  "GET /admin/outbox/api/held": async () => ({ url: "/admin/outbox/api/held" }),
  "POST /api/tenants/{id}/webhook-endpoints": async () => ({ url: `/api/tenants/${shop.tenantId}/webhook-endpoints`, payload: { url: "https://example.com/hooks", events: ["order.created"] } }),
  "GET /api/tenants/{id}/webhook-endpoints": async () => ({ url: `/api/tenants/${shop.tenantId}/webhook-endpoints` }),
  "POST /api/tenants/{id}/webhook-endpoints/{endpointId}/disable": async () => ({ url: `${await newEndpoint()}/disable`, payload: { reason: "docs" } }),
  "POST /api/tenants/{id}/webhook-endpoints/{endpointId}/enable": async () => ({ url: `${await newEndpoint()}/enable` }),
  "POST /api/tenants/{id}/webhook-endpoints/{endpointId}/rotate-secret": async () => ({ url: `${await newEndpoint()}/rotate-secret` }),
  "GET /api/tenants/{id}/webhook-endpoints/{endpointId}/attempts": async () => ({ url: `${await newEndpoint()}/attempts?limit=5` }),
  "DELETE /api/tenants/{id}/webhook-endpoints/{endpointId}": async () => ({ url: await newEndpoint() }),
  "POST /api/tenants/{id}/portal-links": async () => ({ url: `/api/tenants/${shop.tenantId}/portal-links` }),
};

/** A webhook endpoint of the seeded tenant: its URL path. */
async function newEndpoint(): Promise<string> {
  const base = `/api/tenants/${shop.tenantId}/webhook-endpoints`;
  const endpoint = await post(api.app, base, { url: "https://example.com/hooks", events: ["*"] }, shop.auth);
  expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
  return `${base}/${endpoint.body.id}`;
}

const methods = ["get", "post", "put", "patch", "delete"] as const;

function operations(): { method: string; path: string; operation: Operation; resolved: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    methods.filter((method) => item[method]).map((method) => ({ method: method.toUpperCase(), path, operation: item[method]!, resolved: resolved.paths[path]![method]! })),
  );
}

/** Whether the operation declares its answers (not only @fastify/swagger's placeholder "Default Response"). */
function describesAnswers(operation: Operation): boolean {
  return Object.values(operation.responses).some((response) => response.content !== undefined);
}

/** The credentials that pass: the admin's for admin routes, else the tenant's key. */
function credentials(path: string, operation: Operation & { security?: Record<string, string[]>[] }): Auth | Record<string, never> {
  const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (schemes.length === 0) return {};
  return schemes.includes("apiKey") && !path.startsWith("/admin") ? shop.auth : admin;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
// ajv-formats is CommonJS: its default import is `module.exports`, whose `default` is the plugin.
addFormats.default(ajv);
const compiled = new Map<object, ValidateFunction>();
function validatorOf(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
  return validate;
}

/** Checks one answer against the operation: a declared status, a body its schema accepts. Returns the status. */
function expectDocumented(where: string, operation: Operation, answer: { statusCode: number; headers: Record<string, string | string[] | number | undefined>; body: string }): number {
  const declared = operation.responses[String(answer.statusCode)] ?? operation.responses[`${String(answer.statusCode)[0]}XX`] ?? operation.responses.default;
  expect(declared, `${where} answered ${answer.statusCode} (${answer.body.slice(0, 300)}), which it does not document: ${Object.keys(operation.responses).join(", ")}`).toBeDefined();
  const contentType = String(answer.headers["content-type"]).split(";")[0]!;
  const content = declared!.content?.[contentType];
  expect(content, `${where} ${answer.statusCode} answered ${contentType}; documented: ${Object.keys(declared!.content ?? {}).join(", ")}`).toBeDefined();
  const body: unknown = contentType === "application/json" ? JSON.parse(answer.body) : answer.body;
  const validate = validatorOf(content!.schema);
  expect(validate(body), `${where} ${answer.statusCode} body ${answer.body.slice(0, 500)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return answer.statusCode;
}

interface FieldSchema {
  type?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
}
interface Field {
  in: "query" | "path" | "body";
  name: string;
  schema: FieldSchema;
}

/** The operation's query and path parameters and top-level JSON body properties that are a date-time or an integer. */
function checkedFields(operation: Operation & { parameters?: Field[] }): Field[] {
  const body = (operation.requestBody as { content?: Record<string, { schema: { properties?: Record<string, FieldSchema> } }> } | undefined)?.content?.["application/json"]?.schema;
  const fields = [
    ...(operation.parameters ?? []).filter((parameter) => parameter.in === "query" || parameter.in === "path"),
    ...Object.entries(body?.properties ?? {}).map(([name, schema]) => ({ in: "body" as const, name, schema })),
  ];
  return fields.filter((field) => field.schema.format === "date-time" || field.schema.type === "integer");
}

/** Values no calendar, clock or column holds: as text in a query or path, as JSON in a body. */
function impossibleValues(schema: FieldSchema): unknown[] {
  if (schema.format === "date-time") return ["2026-13-45T25:61:61Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z", "+300000-01-01T00:00:00Z", ""];
  const outside = [...(schema.maximum === undefined ? [] : [schema.maximum + 1]), ...(schema.minimum === undefined ? [] : [schema.minimum - 1])];
  return [...outside, 1.5, "NaN", "", 2 ** 64];
}

/** A request carrying `value` in the field: unknown ids in the path, the body holding only that field. */
function requestWith(path: string, field: Field, value: unknown): Call {
  const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => (field.in === "path" && name === field.name ? encodeURIComponent(String(value)) : randomUUID()));
  if (field.in === "body") return { url, payload: { [field.name]: value } };
  return { url: field.in === "query" ? `${url}?${field.name}=${encodeURIComponent(String(value))}` : url };
}

describe("the OpenAPI document", () => {
  it("is served at /docs/json without credentials and lists every route of the API", () => {
    expect(document.openapi).toMatch(/^3\./);
    const listed = new Set(operations().map(({ method, path }) => `${method} ${path}`));
    for (const route of [
      "POST /api/tenants",
      "POST /api/users",
      "POST /api/products",
      "POST /api/orders",
      "POST /api/orders/{id}/cancel",
      "POST /api/payments",
      "POST /api/payments/{id}/complete",
      "POST /api/tenants/{id}/webhook-endpoints",
      "GET /api/orders/{id}",
      "GET /api/products/{id}",
      "GET /api/events/{id}",
      "GET /api/event-types",
      "GET /healthz",
      "GET /readyz",
      "GET /metrics",
      "POST /api/tenants/{id}/api-keys",
      "DELETE /api/tenants/{id}/api-keys/{keyId}",
    ]) {
      expect(listed, route).toContain(route);
    }
    for (const route of Object.keys(accepted)) expect(listed, `a request in 'accepted' for ${route}, which the document does not list`).toContain(route);
    expect([...listed].filter((route) => route.includes("/docs") || route.includes("/admin/queues"))).toEqual([]);
  });

  it("describes the order body, with categoryId required on products and webhook event names as an enum", () => {
    const body = (path: string) =>
      (resolved.paths[path]!.post!.requestBody as { content: Record<string, { schema: { required: string[]; properties: Record<string, unknown> } }> }).content["application/json"]!.schema;
    expect(body("/api/orders").required).toEqual(expect.arrayContaining(["tenantId", "customerId", "customerEmail", "items", "shippingAddress"]));
    expect(body("/api/orders").properties).toHaveProperty("billingAddress");
    expect(body("/api/products").required).toContain("categoryId");
    expect(JSON.stringify(document)).toContain('"order.created"');
  });

  it("every documented operation answers with a status it declares and a body its schema describes", async () => {
    const succeeded: string[] = [];
    for (const { method, path, operation, resolved: described } of operations()) {
      const route = `${method} ${path}`;
      expect(describesAnswers(operation), `${route} declares no response schemas`).toBe(true);
      const auth = credentials(path, operation);
      // A request it accepts, when we have one.
      const make = accepted[route];
      if (make) {
        const call = await make();
        const answer = await api.app.inject({ method, ...call, headers: { ...auth, ...call.headers } } as InjectOptions);
        const status = expectDocumented(route, described, answer);
        expect(status, `${route}: ${answer.body}`).toBeLessThan(300);
        succeeded.push(route);
      }
      // Unknown ids, an empty body: refused, as documented.
      const url = path.replace(/\{[^}]+\}/g, () => randomUUID());
      const refused = await api.app.inject({ method, url, headers: auth, ...(described.requestBody ? { payload: {} } : {}) } as InjectOptions);
      expectDocumented(`${route} (unknown ids, empty body)`, described, refused);
    }
    expect(succeeded.sort()).toEqual(Object.keys(accepted).sort());
  });

  it("every time and whole number a request carries (query, path, body) refuses impossible values with 400 naming it", async () => {
    const walked: string[] = [];
    for (const { method, path, operation, resolved: described } of operations()) {
      for (const field of checkedFields(described)) {
        const route = `${method} ${path} ${field.in} ${field.name}`;
        expect(field.schema.type !== "integer" || field.in === "body" || field.schema.maximum !== undefined, `${route}: an integer with no maximum`).toBe(true);
        for (const value of impossibleValues(field.schema)) {
          const answer = await api.app.inject({ method, ...requestWith(path, field, value), headers: credentials(path, operation) } as InjectOptions);
          expect(expectDocumented(`${route}=${JSON.stringify(value)}`, described, answer), `${route}=${JSON.stringify(value)}: ${answer.body}`).toBe(400);
          const issues = (JSON.parse(answer.body) as { issues?: { path: string }[] }).issues ?? [];
          expect(issues.map((issue) => issue.path), `${route}=${JSON.stringify(value)}`).toContain(field.name);
        }
        walked.push(route);
      }
    }
    expect(walked).toEqual(
      expect.arrayContaining([
        "GET /admin/api/dlq query limit",
        "GET /admin/outbox/api/events query limit",
        "GET /api/tenants/{id}/webhook-endpoints/{endpointId}/attempts query limit",
        "POST /admin/api/replay body since",
        "POST /admin/api/replay body until",
        "POST /api/products body price",
      ]),
    );
  });

  it("documents the refusal every /api and /admin route shares: 401 without credentials, with the one error shape", async () => {
    for (const { method, path, resolved: described } of operations()) {
      if (!/^\/(api|admin)\//.test(path) || !describesAnswers(described)) continue;
      const answer = await api.app.inject({ method, url: path.replace(/\{[^}]+\}/g, () => randomUUID()) } as InjectOptions);
      expect(answer.statusCode, `${method} ${path}`).toBe(401);
      expectDocumented(`${method} ${path} (no credentials)`, described, answer);
    }
  });
});

describe("the browsable documentation at /docs", () => {
  it("serves Swagger UI without credentials, every asset from this server (no CDN)", async () => {
    const page = await api.app.inject({ method: "GET", url: "/docs" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain('id="swagger-ui"');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset, "an asset from another origin").toMatch(/^\/docs\//);
      const file = await api.app.inject({ method: "GET", url: asset });
      expect(file.statusCode, asset).toBe(200);
      expect(file.body, `${asset} loads something from the network`).not.toMatch(/(?:src|href)=["']https?:\/\//);
    }
    const initializer = await api.app.inject({ method: "GET", url: "/docs/static/swagger-initializer.js" });
    expect(initializer.body).toContain("validatorUrl: null");
  });

  it("keeps /api authenticated while /docs is open", async () => {
    expect((await api.app.inject({ method: "GET", url: "/docs/json" })).statusCode).toBe(200);
    const answer = await api.app.inject({ method: "GET", url: `/api/orders/${randomUUID()}` });
    expect(answer.statusCode).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe("Bearer");
  });
});
