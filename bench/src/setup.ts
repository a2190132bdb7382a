import { createPrisma, type PrismaClient } from "@outbox/db";
import { createTemplateDatabase, databaseUrl, deleteKeys, dropDatabase, redisUrl } from "@outbox/testing";

/** A migrated database and a Redis prefix of the bench's own, removed at the end. */
export interface BenchSetup {
  prisma: PrismaClient;
  dbUrl: string;
  prefix: string;
  /** The environment of measured processes. */
  env(overrides?: Record<string, string>): Record<string, string>;
  reset(): Promise<void>;
  /** Commits `count` valid TenantCreated rows in one statement. */
  insertBacklog(count: number, status?: "pending" | "processed"): Promise<void>;
  close(): Promise<void>;
}

export async function createBenchSetup(concurrency: number): Promise<BenchSetup> {
  const database = await createTemplateDatabase();
  const dbUrl = databaseUrl(database);
  const prefix = `outbox-bench-${process.pid}`;
  const prisma = createPrisma(dbUrl, { poolSize: 20 });
  return {
    prisma,
    dbUrl,
    prefix,
    env: (overrides = {}) => ({
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: String(concurrency),
      LOG_LEVEL: "warn",
      WORKER_PORT: "0",
      STATS_INTERVAL_MS: "600000",
      ...overrides,
    }),
    async reset() {
      await prisma.$executeRawUnsafe("TRUNCATE event_outbox, event_inbox");
      await prisma.$executeRawUnsafe("VACUUM ANALYZE event_outbox");
      await deleteKeys(`${prefix}*`);
      await deleteKeys(`{${prefix}*`);
    },
    async insertBacklog(count, status = "pending") {
      await prisma.$executeRaw`
        INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, tenant_id, payload, status, processed_at)
        SELECT gen_random_uuid(), 'TenantCreated', 'tenant', 'bench-' || g, 'bench-' || g,
          jsonb_build_object('tenantId', 'bench-' || g, 'name', 'Bench', 'slug', 'bench-' || g,
                             'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
          ${status}, CASE WHEN ${status} = 'processed' THEN now() END
        FROM generate_series(1, ${count}::int) g`;
    },
    async close() {
      await prisma.$disconnect();
      await deleteKeys(`${prefix}*`);
      await deleteKeys(`{${prefix}*`);
      await dropDatabase(database);
    },
  };
}
