export { migrate, MigrationError, type MigrateOptions, type MigrateResult, type MigrationErrorCode } from "./migrate.ts";
export { readOutboxMigration } from "./migration.ts";
export { migrationsDir } from "./migrations.ts";
export { schemaStatus, type MissingMigration, type SchemaStatus } from "./schema-status.ts";
export { missingMigrationMessage, schemaCheck } from "./readiness.ts";
