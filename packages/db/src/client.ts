import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";

export interface CreatePrismaOptions {
  /** Connections in this client's pool. */
  poolSize?: number;
}

export function createPrisma(databaseUrl: string, { poolSize = 10 }: CreatePrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: poolSize });
  return new PrismaClient({ adapter });
}

/** The client handed to code that runs inside a caller's interactive transaction. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
