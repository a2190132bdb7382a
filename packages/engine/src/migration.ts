import { readFileSync } from "node:fs";

/** The engine's tables (event_outbox, outbox_relay_cursor), as SQL to add to a service's own migrations. */
export const outboxMigrationSql: string = readFileSync(new URL("../migration.sql", import.meta.url), "utf8");
