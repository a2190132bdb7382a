export { createPrisma, type CreatePrismaOptions, type Tx } from "./client.ts";
export { Prisma, PrismaClient } from "./generated/client.ts";
export type * from "./generated/client.ts";
export { describeDatabase, ensureDatabase, migrate, migrationsDir, MigrationError, readMigrations, type MigrateResult } from "./migrate.ts";
