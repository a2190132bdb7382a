import { NotReadyError, type HealthCheck } from "../health/index.ts";
import type { Logger } from "../logger/index.ts";
import type { Queryable } from "../sql/index.ts";
import { missingMigrationMessage, schemaStatus } from "../schema/index.ts";

export interface SchemaWatchOptions {
  db: Queryable;
  logger: Logger;
  /** The command that applies the engine's migrations where this worker runs ("outbox-relay migrate"). */
  migrateCommand: string;
  /** How often a database that lacks a migration is checked again. */
  intervalMs: number;
}

export interface SchemaWatch {
  /** For /readyz: throws a NotReadyError naming the first missing migration while the last check found one. */
  check: HealthCheck;
  /** Resolves once the database has every migration this engine ships; checks it every intervalMs until then. */
  matched(): Promise<void>;
  stop(): void;
}

/**
 * The worker's check of the database against the migrations it ships, so that it never starts on
 * a schema it does not match (every relay step would fail on a missing column). It logs once per
 * state seen ("the database lacks migration …: run …"), not once per check.
 */
export function watchSchema({ db, logger, migrateCommand, intervalMs }: SchemaWatchOptions): SchemaWatch {
  // Until a check has found the schema, /readyz checks it itself; while Postgres is away, its own
  // check says why the worker is not ready.
  let notReady: string | undefined;
  let checked = false;
  let lastLogged: string | undefined;
  let lacked = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const checkOnce = async (): Promise<boolean> => {
    try {
      const status = await schemaStatus(db);
      checked = true;
      if (status.missing.length === 0) {
        if (lacked) logger.info("the database has every outbox migration now: starting");
        notReady = undefined;
        return true;
      }
      lacked = true;
      notReady = missingMigrationMessage(status, migrateCommand);
      if (notReady !== lastLogged) {
        logger.error({ missing: status.missing.map((migration) => migration.name), source: status.source }, `${notReady}; the worker waits for it (/readyz answers 503)`);
      }
      lastLogged = notReady;
    } catch (error) {
      // Postgres away: its watch says so (and drops this line). Anything else (no privilege on the catalog) once.
      if (String(error) !== lastLogged) logger.warn({ err: error }, `could not check the database's outbox migrations; trying again every ${intervalMs} ms`);
      lastLogged = String(error);
    }
    return false;
  };

  return {
    check: async () => {
      if (!checked) await checkOnce();
      if (notReady) throw new NotReadyError(notReady);
    },
    async matched() {
      while (!stopped && !(await checkOnce())) await new Promise((resolve) => (timer = setTimeout(resolve, intervalMs)));
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
