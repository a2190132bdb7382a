import { randomBytes, randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { loadConfig } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { orderEvents } from "@outbox/domain";
import { createLogger, type Logger } from "outbox-relay/logger";
import { createTestDatabase, createTestRedis, redisUrl, type TestDatabase, type TestRedis } from "@outbox/testing";
import { createQueues, createRedis, type QueueSet, type RedisConnection } from "outbox-relay/queues";
import { Database, sql, type DatabaseOptions } from "outbox-relay/sql";
import { buildApp } from "../src/app.ts";

/**
 * Limits no test reaches unless it sets its own (rate-limit.test.ts, attacks.test.ts): every
 * injected request comes from one address, and many tests send wrong credentials on purpose.
 */
const unreachedLimits = { API_RATE_LIMIT_MAX: "1000000", AUTH_FAILURES_PER_ADDRESS_MAX: "1000000", AUTH_FAILURES_PER_USER_MAX: "1000000" };

export interface ApiHarness {
  app: FastifyInstance;
  prisma: PrismaClient;
  /** The app's pool; `prisma` runs on it too. */
  sql: Database;
  db: TestDatabase;
  redis: RedisConnection;
  /** With `{ queues: true }`: the app's queues (under a prefix of this test's) and its admin routes. */
  queues?: QueueSet;
  close(): Promise<void>;
}

/** This run's admin password: random, so no password written in the repository works on a test app either. */
export const adminPassword = randomBytes(18).toString("base64url");

/** A test app's settings: its database, this run's admin password, a rate limit no test reaches unless it sets its own. */
function testSettings(databaseUrl: string): Record<string, string> {
  return { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, NODE_ENV: "test", LOG_LEVEL: "silent", ...unreachedLimits, ADMIN_PASSWORD: adminPassword };
}

export async function startApi(
  options: { redisUrl?: string; queues?: boolean; env?: Record<string, string>; pool?: DatabaseOptions; logger?: Logger } = {},
): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const sql = new Database(db.url, options.pool);
  const prisma = createPrisma(sql.pool);
  const redis = createRedis({ url: options.redisUrl ?? redisUrl }, "producer");
  // The readiness check reports a Redis that is down; the connection's own events are noise here.
  redis.on("error", () => undefined);
  const config = loadConfig({ ...testSettings(db.url), ...options.env });
  const testRedis = options.queues ? createTestRedis() : undefined;
  const queues = testRedis ? createQueues(redis, testRedis.prefix, orderEvents) : undefined;
  const app = await buildApp({ config, db: sql, prisma, logger: options.logger ?? createLogger({ level: "silent" }), redis, ...(queues ? { queues } : {}) });
  return {
    app,
    prisma,
    sql,
    db,
    redis,
    ...(queues ? { queues } : {}),
    async close() {
      await app.close();
      await queues?.close();
      await testRedis?.clean();
      redis.disconnect();
      await prisma.$disconnect();
      await sql.close();
      await db.drop();
    },
  };
}

/** Another app on a harness's database and pool, with other settings: another API process, as far as caches go. */
/** The settings of a worker beside this API: its database, the test's Redis prefix, a relay tick every second. */
export function workerConfigFor(api: ApiHarness, redis: TestRedis, env: Record<string, string> = {}) {
  return loadConfig({
    DATABASE_URL: api.db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    LOG_LEVEL: "silent",
    SCAN_CRON: "*/1 * * * * *",
    WORKER_PORT: "0",
    SHUTDOWN_TIMEOUT_MS: "5000",
    ...env,
  });
}

export async function anotherApp(api: ApiHarness, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config = loadConfig({ ...testSettings(api.db.url), ...env });
  return buildApp({ config, db: api.sql, prisma: api.prisma, logger: createLogger({ level: "silent" }), redis: api.redis });
}

/** A dead event (TenantCreated of an aggregate of its own, 3 attempts, last error "boom"), written by plain SQL; its id. */
export async function insertDeadEvent(db: Database): Promise<string> {
  const id = randomUUID();
  await db.execute(sql`
    INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error)
    VALUES (${id}::uuid, 'TenantCreated', 'tenant', ${randomUUID()}, '{}'::jsonb, 'dead', 3, 'boom')`);
  return id;
}

/** Row counts of every table, to show that a refused request wrote nothing. */
export async function countRows(prisma: PrismaClient): Promise<Record<string, number>> {
  const tables = await prisma.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "${name}"`);
    counts[name] = row!.n;
  }
  return counts;
}

/** A digest of every row of every table: equal before and after means a refused request wrote nothing, not even an update. */
export async function tableDigests(prisma: PrismaClient): Promise<Record<string, string>> {
  const tables = await prisma.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY table_name`;
  const digests: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await prisma.$queryRawUnsafe<{ digest: string | null }[]>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM "${name}" t`);
    digests[name] = row!.digest ?? "empty";
  }
  return digests;
}

export const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1 9GU", country: "GB" };

/** A JSON answer with the fields the tests read; everything else stays unknown. */
export interface ApiBody {
  [key: string]: unknown;
  id: string;
  eventId: string;
  status: string;
  code: string;
  error: string;
  issues: { path: string; message: string }[];
  totalAmount: number;
  orderNumber: string;
}

/** Request headers that authenticate: `{ authorization }`, spread into a request's headers. */
export type Auth = { authorization: string };

/** The admin credentials of a test app (ADMIN_USER default, this run's adminPassword). */
export const admin: Auth = { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString("base64")}` };

export function bearer(apiKey: string): Auth {
  return { authorization: `Bearer ${apiKey}` };
}

export async function post(app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: "POST", url, payload: payload as object, headers });
  return { status: response.statusCode, body: response.json<ApiBody>(), headers: response.headers };
}

export async function get(app: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: "GET", url, headers });
  return { status: response.statusCode, body: response.json<ApiBody>(), headers: response.headers };
}

/** The customer seedShop made for each tenant: orderBody orders as that user. */
const customers = new Map<string, string>();

/** A tenant made by the admin, with its first API key. */
export async function seedTenant(app: FastifyInstance) {
  const tenant = await post(app, "/api/tenants", { name: "Acme", slug: `acme-${randomUUID().slice(0, 8)}` }, admin);
  if (tenant.status !== 201) throw new Error(`POST /api/tenants answered ${tenant.status}: ${JSON.stringify(tenant.body)}`);
  const apiKey = tenant.body.apiKey as string;
  return { tenantId: tenant.body.id, apiKey, apiKeyId: tenant.body.apiKeyId as string, auth: bearer(apiKey) };
}

/** A tenant with its API key (`auth`), a seller, a customer and one product, made through the API with that key. */
export async function seedShop(app: FastifyInstance, { stock = 10, price = 1250 } = {}) {
  const { tenantId, apiKey, auth } = await seedTenant(app);
  const seller = await post(app, "/api/users", { tenantId, email: "seller@example.com", role: "seller" }, auth);
  const customer = await post(app, "/api/users", { tenantId, email: "ada@example.com", role: "customer" }, auth);
  customers.set(tenantId, customer.body.id);
  const product = await post(app, "/api/products", { tenantId, sellerId: seller.body.id, categoryId: "books", name: "A book", price, stock }, auth);
  if (product.status !== 201) throw new Error(`POST /api/products answered ${product.status}: ${JSON.stringify(product.body)}`);
  return { tenantId, apiKey, auth, productId: product.body.id, price, sellerId: seller.body.id, customerId: customer.body.id };
}

export function orderBody(tenantId: string, productId: string, quantity = 2, unitPrice = 1250) {
  return {
    tenantId,
    customerId: customers.get(tenantId) ?? randomUUID(),
    customerEmail: "ada@example.com",
    items: [{ productId, quantity, unitPrice }],
    shippingAddress: address,
  };
}
