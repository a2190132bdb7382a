import { readFileSync } from "node:fs";
import path from "node:path";
import { engineMigrations, migrationsDir } from "./migrations.ts";

/**
 * The engine's tables (event_outbox, outbox_relay_cursor, the webhook tables) as SQL: every file of the package's
 * migrations folder, in order. Each runs again without harm, so this also brings a schema of an
 * older version up to date. Read when called, so a bundle that never asks for it does not need the
 * files beside it.
 * @deprecated Use `migrate()` (or `outbox-relay migrate`), which records what it applied; or add
 * the files of `migrations/` to your own migrations one by one (docs/upgrading.md).
 */
export function readOutboxMigration(): string {
  const dir = migrationsDir();
  return engineMigrations.map(({ name }) => readFileSync(path.join(dir, `${name}.sql`), "utf8")).join("\n");
}
