import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { loadConfig } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { createLogger, type Logger } from "@outbox/logger";
import { createTestDatabase, createTestRedis, redisUrl, type TestDatabase } from "@outbox/testing";
import { createQueues, createRedis, type QueueSet, type RedisConnection } from "@outbox/queues";
import { Database } from "@outbox/sql";
import { buildApp } from "../src/app.ts";

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

export async function startApi(options: { redisUrl?: string; queues?: boolean; logger?: Logger } = {}): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const sql = new Database(db.url);
  const prisma = createPrisma(sql.pool);
  const redis = createRedis({ url: options.redisUrl ?? redisUrl }, "producer");
  // The readiness check reports a Redis that is down; the connection's own events are noise here.
  redis.on("error", () => undefined);
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: redisUrl, NODE_ENV: "test", LOG_LEVEL: "silent" });
  const testRedis = options.queues ? createTestRedis() : undefined;
  const queues = testRedis ? createQueues(redis, testRedis.prefix) : undefined;
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

export async function post(app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: "POST", url, payload: payload as object, headers });
  return { status: response.statusCode, body: response.json<ApiBody>(), headers: response.headers };
}

export async function get(app: FastifyInstance, url: string) {
  const response = await app.inject({ method: "GET", url });
  return { status: response.statusCode, body: response.json<ApiBody>() };
}

/** A tenant with one product, made through the API. */
export async function seedShop(app: FastifyInstance, { stock = 10, price = 1250 } = {}) {
  const tenant = await post(app, "/api/tenants", { name: "Acme", slug: `acme-${randomUUID().slice(0, 8)}` });
  const product = await post(app, "/api/products", {
    tenantId: tenant.body.id,
    sellerId: randomUUID(),
    categoryId: "books",
    name: "A book",
    price,
    stock,
  });
  return { tenantId: tenant.body.id, productId: product.body.id, price };
}

export function orderBody(tenantId: string, productId: string, quantity = 2, unitPrice = 1250) {
  return {
    tenantId,
    customerId: randomUUID(),
    customerEmail: "ada@example.com",
    items: [{ productId, quantity, unitPrice }],
    shippingAddress: address,
  };
}
