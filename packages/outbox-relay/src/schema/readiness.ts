import { NotReadyError, type HealthCheck } from "../health/index.ts";
import type { Queryable } from "../sql/index.ts";
import { schemaStatus, type SchemaStatus } from "./schema-status.ts";

/** "the database lacks migration 0002_x (no column …): run `outbox-relay migrate`": what /readyz and the log say. */
export function missingMigrationMessage(status: SchemaStatus, migrateCommand: string): string {
  return `the database ${describeMissing(status)}: run \`${migrateCommand}\``;
}

/** "lacks migration 0002_x (no column event_outbox.traceparent)", and the others after it. */
function describeMissing({ missing }: SchemaStatus): string {
  const [first, ...later] = missing;
  if (!first) return "has every migration";
  const problems = first.problems.length > 0 ? ` (${first.problems.join("; ")})` : "";
  const others = later.length > 0 ? `, then ${later.map((migration) => migration.name).join(", ")}` : "";
  return `lacks migration ${first.name}${problems}${others}`;
}

/**
 * A readiness check for a process that publishes or administers (an API): not ready while the
 * database lacks one of the package's migrations, naming it and `migrateCommand`. Once the schema
 * matched it is not probed again. While Postgres cannot be reached, its own check says so.
 */
export function schemaCheck(db: Queryable, { migrateCommand }: { migrateCommand: string }): HealthCheck {
  let matched = false;
  return async () => {
    if (matched) return;
    let status: SchemaStatus;
    try {
      status = await schemaStatus(db);
    } catch {
      return;
    }
    if (status.missing.length === 0) matched = true;
    else throw new NotReadyError(missingMigrationMessage(status, migrateCommand));
  };
}
