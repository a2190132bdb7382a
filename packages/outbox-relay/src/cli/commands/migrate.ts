import { migrate, MigrationError, type MigrateResult } from "../../schema/index.ts";
import { describeConnectionError } from "../../health/index.ts";
import { isPostgresConnectionError, postgresPort } from "../../sql/index.ts";
import { OperationError } from "../errors.ts";
import { print, type CommandContext } from "../output.ts";

export interface MigrateCommandResult extends MigrateResult {
  /** The database migrated, by name (never its URL: that may hold a password). */
  database: string;
}

/**
 * `outbox migrate`: the engine's pending migrations, applied under its advisory lock and recorded
 * in outbox_relay_migrations; a database whose outbox was made without that record is recognised
 * (baselined), not created again. Every failure is an OperationError.
 */
export async function migrateCommand(ctx: Pick<CommandContext, "out" | "json">, databaseUrl: string): Promise<MigrateCommandResult> {
  const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const result = await migrate(databaseUrl).catch((error: unknown) => {
    throw asOperationError(error, databaseUrl);
  });
  const summary = { database, ...result };
  print(ctx, summary, () => describeResult(summary));
  return summary;
}

function describeResult({ database, applied, baselined }: MigrateCommandResult): string {
  const done = [
    ...(baselined.length > 0 ? [`recorded ${baselined.join(", ")} (already in effect)`] : []),
    ...(applied.length > 0 ? [`applied ${applied.join(", ")}`] : []),
  ];
  return `database ${database}: ${done.length > 0 ? done.join("; ") : "up to date"}`;
}

/** A failure of a command on the database alone, as an OperationError naming what to check. */
export function asOperationError(error: unknown, databaseUrl: string): OperationError {
  if (error instanceof OperationError) return error;
  if (error instanceof MigrationError) return new OperationError(error.code, error.message, { cause: error });
  if (isPostgresConnectionError(error, [postgresPort(databaseUrl)]) || ["3D000", "28P01", "28000"].includes((error as { code?: string }).code ?? "")) {
    return new OperationError("POSTGRES_UNREACHABLE", `postgres: unreachable (${describeConnectionError(error)}); check DATABASE_URL or --database-url`, { cause: error });
  }
  return new OperationError("OPERATION_FAILED", error instanceof Error ? error.message : String(error), { cause: error });
}
