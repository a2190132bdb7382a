import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createPrisma, createTestRedis, startPrivatePostgres, useTestDatabase, waitFor } from "@outbox/testing";
import { defineEvents } from "../../src/events/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { prismaTransactions, runBatch, type EventJob } from "../../src/processor/index.ts";
import { Database, raw, sql } from "../../src/sql/index.ts";
import { readOutboxMigration } from "../../src/schema/index.ts";
import { startWorker } from "../../src/worker/worker.ts";

const catalog = defineEvents({
  TenantNamed: { schema: z.object({ tenantId: z.string(), name: z.string() }), aggregate: (p) => ({ type: "tenant", id: p.tenantId }), priority: 1 },
});

const database = useTestDatabase();
const redis = createTestRedis();
const logger = createLogger({ level: "silent" });
afterAll(() => redis.clean());

describe("startWorker({ prisma })", () => {
  it("relays an event published in a Prisma transaction to a handler that writes through the client's models", async () => {
    const { prisma } = database;
    const worker = await startWorker({
      catalog,
      prisma,
      databaseUrl: database.db.url,
      redisUrl: redis.url,
      queuePrefix: redis.prefix,
      logger,
      handlers: {
        // tx is typed from `prisma`: its models are there.
        TenantNamed: async ({ tx, event }) => {
          await tx.tenant.create({ data: { id: event.payload.tenantId, name: event.payload.name, slug: `s-${event.payload.tenantId}` } });
        },
      },
    });
    try {
      const tenantId = randomUUID();
      const eventId = await prisma.$transaction((tx) => catalog.publish(tx, { type: "TenantNamed", payload: { tenantId, name: "Acme" } }));
      await waitFor(async () => (await prisma.eventOutbox.findUnique({ where: { id: eventId } }))?.status === "processed", { message: "event processed" });
      expect(await prisma.tenant.count({ where: { id: tenantId } })).toBe(1);
    } finally {
      await worker.stop();
    }
  });

  it("Postgres stopped and started under a batch (a private server): the batch waits for it and runs again", async () => {
    const server = await startPrivatePostgres();
    const admin = new Database(server.url("postgres"));
    await admin.execute(sql`CREATE DATABASE restarted`);
    await admin.close();
    const db = new Database(server.url("restarted"));
    const prisma = createPrisma(server.url("restarted"));
    let resumed: Promise<void> | undefined;
    try {
      await db.execute(raw(readOutboxMigration()));
      await db.execute(sql`CREATE TABLE effects (event_id uuid NOT NULL)`);
      const id = randomUUID();
      const payload = { tenantId: id, name: "Acme" };
      await db.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
        VALUES (${id}::uuid, 'TenantNamed', 'tenant', ${id}, ${JSON.stringify(payload)}::jsonb)`);
      const job: EventJob = { id, attemptsMade: 0, maxAttempts: 3, data: { type: "TenantNamed", payload, aggregateType: "tenant", aggregateId: id, tenantId: id, createdAt: new Date().toISOString(), previousAttempts: 0 } };
      const handlers = {
        TenantNamed: async ({ tx, event }: { tx: { execute: typeof db.execute }; event: { id: string } }) => {
          await tx.execute(sql`INSERT INTO effects (event_id) VALUES (${event.id}::uuid)`);
          if (resumed) return;
          server.pause();
          resumed = new Promise((resolve) => setTimeout(resolve, 1000)).then(() => server.resume());
        },
      };
      const warnings: string[] = [];
      const watching = createLogger({ level: "warn", destination: { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) } });
      const outcomes = await runBatch({ db, catalog, handlers, logger: watching, begin: prismaTransactions(prisma, db) }, [job]);
      expect(outcomes.map((o) => o.kind)).toEqual(["handled"]);
      // The COMMIT on the closed connection, then at least one start refused while the server was down.
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      expect(new Set(warnings)).toEqual(new Set(["lost the database connection during a batch; running it again"]));
      expect(await db.query(sql`SELECT status, attempts FROM event_outbox WHERE id = ${id}::uuid`)).toEqual([{ status: "processed", attempts: 1 }]);
      expect(await db.query(sql`SELECT count(*)::int AS n FROM effects`)).toEqual([{ n: 1 }]);
    } finally {
      await prisma.$disconnect();
      await db.close();
      await resumed;
      server.stop();
    }
  });
});
