import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { PrismaClient } from "./generated/client.ts";

export interface CreatePrismaOptions {
  /** Connections in this client's pool (when it makes its own). */
  poolSize?: number;
}

/**
 * A Prisma client on a database URL (its own pool), or on an existing `pg` pool, so that a process
 * whose engine statements run through `outbox-relay/sql` shares one pool with its application code.
 */
export function createPrisma(database: string | pg.Pool, { poolSize = 10 }: CreatePrismaOptions = {}): PrismaClient {
  const adapter = typeof database === "string" ? new PrismaPg({ connectionString: database, max: poolSize }) : new PrismaPg(database);
  return new PrismaClient({ adapter });
}

/** The client handed to code that runs inside a caller's interactive transaction. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
