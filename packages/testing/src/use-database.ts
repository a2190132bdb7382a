import { afterAll, beforeAll } from "vitest";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { Database } from "outbox-relay/sql";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface TestDatabaseHandle {
  readonly db: TestDatabase;
  readonly prisma: PrismaClient;
  /** The engine's pool on the same database. */
  readonly sql: Database;
}

/** For a test file: a fresh database (with a Prisma client and a pool on it) before its tests, removed after them. */
export function useTestDatabase(): TestDatabaseHandle {
  let db: TestDatabase | undefined;
  let prisma: PrismaClient | undefined;
  let pool: Database | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = createPrisma(db.url);
    pool = new Database(db.url);
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await pool?.close();
    await db?.drop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the test database is made in beforeAll; use it inside hooks and tests");
    return value;
  };
  return {
    get db() {
      return ready(db);
    },
    get prisma() {
      return ready(prisma);
    },
    get sql() {
      return ready(pool);
    },
  };
}
