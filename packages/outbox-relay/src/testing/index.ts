// `outbox-relay/testing`: what a service needs to test its handlers against a real database: a
// database of its own with the package's tables, and its events run through the processor's batch
// path (the marks, the transaction, the savepoints) without Redis or a worker.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { EventCatalog, NewEventOf } from "../events/index.ts";
import { createLogger, type Logger } from "../logger/index.ts";
import { eventColumns, type OutboxEvent } from "../outbox/index.ts";
import { runBatch, type EventJob, type HandlerMap } from "../processor/index.ts";
import { migrate } from "../schema/index.ts";
import { Database, sql } from "../sql/index.ts";

export type { EventJob } from "../processor/index.ts";

export interface OutboxTestDatabase {
  name: string;
  url: string;
  /** A pool on it; `drop()` closes it. */
  db: Database;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * A new database on the server of `serverUrl` (any database URL of that server, with the rights to
 * create databases), with the package's tables migrated in. Add your own tables to it, then `drop()`.
 */
export async function createOutboxTestDatabase(serverUrl: string, { prefix = "outbox_test" }: { prefix?: string } = {}): Promise<OutboxTestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await onServer(serverUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const db = new Database(url.href, { poolSize: 4 });
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    await onServer(serverUrl, `DROP DATABASE ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    throw error;
  }
  return {
    name,
    url: url.href,
    db,
    drop: async () => {
      await db.close();
      await onServer(serverUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    },
  };
}

/** What became of one event: `retry` and `dead` carry the handler's error. */
export type HandledResult = { id: string; outcome: "handled" | "skipped" } | { id: string; outcome: "retry" | "dead"; error: Error };

export interface HandleOptions<C extends EventCatalog> {
  db: Database;
  catalog: C;
  handlers: HandlerMap<C>;
  logger?: Logger;
  /** The run to play (1: the first); at the type's last attempt a failure is `dead`. */
  attempt?: number;
}

/**
 * The jobs the relay would queue for these published events, in the order given, at `attempt`
 * (default 1). Run them with `runJobs`, as often as you like: the same jobs again play a
 * redelivery (each event already handled is `skipped`).
 */
export async function eventJobs(options: Pick<HandleOptions<EventCatalog>, "db" | "catalog" | "attempt">, ids: readonly string[]): Promise<EventJob[]> {
  const { db, catalog, attempt = 1 } = options;
  const rows = await db.query<OutboxEvent>(sql`SELECT ${eventColumns} FROM event_outbox o WHERE o.id = ANY(${ids}::uuid[])`);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id)!;
    const data = {
      type: row.event_type,
      payload: row.payload,
      aggregateType: row.aggregate_type,
      aggregateId: row.aggregate_id,
      tenantId: row.tenant_id,
      createdAt: row.created_at.toISOString(),
      previousAttempts: row.attempts,
    };
    return { id, data, attemptsMade: attempt - 1, maxAttempts: catalog.has(row.event_type) ? catalog.policyOf(row.event_type).attempts : 1 };
  });
}

/**
 * Runs jobs (`eventJobs`) as the worker runs one group of them: one transaction per type, each
 * event's `processed` mark committed with its handler's effects, a failure contained to its event.
 * Returns each job's outcome, in order.
 */
export async function runJobs<C extends EventCatalog>(options: HandleOptions<C>, jobs: EventJob[]): Promise<HandledResult[]> {
  const { db, catalog, handlers } = options;
  const logger = options.logger ?? createLogger({ level: "silent" });
  const outcomes = await runBatch({ db, catalog, handlers, logger }, jobs);
  return outcomes.map((outcome, index) => {
    const { id } = jobs[index]!;
    return outcome.kind === "retry" || outcome.kind === "dead" ? { id, outcome: outcome.kind, error: outcome.error } : { id, outcome: outcome.kind };
  });
}

/**
 * Publishes `events` in one transaction, then runs them (`eventJobs`, `runJobs`). Returns each
 * event's outcome, in order; the rows are left as the worker would leave them (processed, or
 * pending with the error for a retry, or dead).
 */
export async function handleEvents<C extends EventCatalog>(options: HandleOptions<C>, events: readonly NewEventOf<C>[]): Promise<HandledResult[]> {
  const ids = await options.db.transaction((tx) => options.catalog.publishMany(tx, events));
  return runJobs(options, await eventJobs(options, ids));
}
