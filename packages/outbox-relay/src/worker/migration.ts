import { readFileSync } from "node:fs";

/**
 * The engine's tables (event_outbox, outbox_relay_cursor) as SQL, for a service's own migrations:
 * the text of `outbox-relay/migration.sql`. Read when called, so a bundle that never asks for it
 * does not need the file beside it.
 */
export function readOutboxMigration(): string {
  return readFileSync(new URL("../../migration.sql", import.meta.url), "utf8");
}
