import { createHash } from "node:crypto";
import pg from "pg";
import type { Sql } from "sql-template-tag";

const preparedNames = new Map<string, string>();
/** Past this many distinct texts, statements run unprepared: a text that varies must not grow the cache. */
const maxPrepared = 500;

const plannedEachRun = new WeakSet<Sql>();

/**
 * Runs the statement unprepared, planned for the table as it is at each run. For statements whose
 * best plan depends on the table's size, such as a correlated probe per row read: a prepared
 * statement's generic plan, made while the outbox table held a few rows, kept probing it with a
 * sequential scan once it held 44,000 (Postgres plans again only after an ANALYZE, and with
 * autovacuum off, or before it runs, that is never or minutes away): 5.5 s a relay step of 500.
 * Run rarely enough (once per 500 rows relayed) that planning each time costs nothing measurable.
 */
export function planEachRun(statement: Sql): Sql {
  plannedEachRun.add(statement);
  return statement;
}

/**
 * Every statement with parameters runs as a named prepared statement, named by its text: Postgres
 * parses and plans it once per connection instead of on every run (measured: it took Postgres'
 * share of a drain from ~60% to ~20% of a core). The engine's statements take their values as
 * parameters (arrays and JSON documents included), so their texts are few and fixed.
 */
function toQuery(statement: Sql): pg.QueryConfig {
  const { text, values } = statement;
  if (values.length === 0) return { text };
  if (plannedEachRun.has(statement)) return { text, values };
  let name = preparedNames.get(text);
  if (!name) {
    if (preparedNames.size >= maxPrepared) return { text, values };
    preparedNames.set(text, (name = `outbox_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`));
  }
  return { name, text, values };
}

/** Anything statements run on: the pool (each statement on its own) or one transaction's connection. */
export interface Queryable {
  /** The rows of a statement, typed by the caller (as the SQL's column aliases name them). */
  query<Row>(statement: Sql): Promise<Row[]>;
  /** The number of rows a statement changed. */
  execute(statement: Sql): Promise<number>;
}

export interface DatabaseOptions {
  /** Connections in the pool. */
  poolSize?: number;
  /** Names the connections in pg_stat_activity. */
  applicationName?: string;
  /** Called when an idle connection fails (Postgres restarted): the pool drops it and carries on. */
  onIdleError?: (error: Error) => void;
  /** How long a statement waits for a free connection before it fails (default: forever). */
  connectionTimeoutMs?: number;
}

/**
 * One connection taken from the pool for a transaction. `release()` gives it back;
 * `destroy()` closes it instead, when a statement may still be running on it (a handler that
 * timed out): Postgres rolls its transaction back.
 */
export class Connection implements Queryable {
  /** A checked-out client whose server goes away between statements emits an error: its next statement fails instead. */
  private readonly ignoreDrop = () => undefined;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly database: Database,
  ) {
    client.on("error", this.ignoreDrop);
  }

  async query<Row>(statement: Sql): Promise<Row[]> {
    this.database.statementCount++;
    return (await this.client.query(toQuery(statement))).rows as Row[];
  }

  async execute(statement: Sql): Promise<number> {
    this.database.statementCount++;
    return (await this.client.query(toQuery(statement))).rowCount ?? 0;
  }

  /** Runs a statement with no parameters (BEGIN, SAVEPOINT, …). */
  async run(command: string): Promise<void> {
    this.database.statementCount++;
    await this.client.query(command);
  }

  release(): void {
    this.client.off("error", this.ignoreDrop);
    this.client.release();
  }

  /** Ends the backend from another connection (its statement stops at once), then drops this one. */
  async destroy(): Promise<void> {
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (pid) await this.database.pool.query("SELECT pg_terminate_backend($1)", [pid]).catch(() => undefined);
    this.client.off("error", this.ignoreDrop);
    this.client.release(true);
  }
}

export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

/** The pool. Every statement takes a connection for itself; `transaction` holds one throughout. */
export class Database implements Queryable {
  readonly pool: pg.Pool;
  /** Statements sent so far, through the pool and its transactions (the bench reports statements per batch). */
  statementCount = 0;

  constructor(url: string, { poolSize = 10, applicationName, onIdleError, connectionTimeoutMs }: DatabaseOptions = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      ...(applicationName ? { application_name: applicationName } : {}),
      ...(connectionTimeoutMs ? { connectionTimeoutMillis: connectionTimeoutMs } : {}),
    });
    // pg attaches the failed client to the error; report the error alone (no connection settings in logs).
    this.pool.on("error", (error: Error & { code?: string }) => onIdleError?.(Object.assign(new Error(error.message), { code: error.code, stack: error.stack })));
  }

  async query<Row>(statement: Sql): Promise<Row[]> {
    this.statementCount++;
    return (await this.pool.query(toQuery(statement))).rows as Row[];
  }

  async execute(statement: Sql): Promise<number> {
    this.statementCount++;
    return (await this.pool.query(toQuery(statement))).rowCount ?? 0;
  }

  /**
   * Opens every connection of the pool now (a `pg` pool opens them on demand), so the first burst
   * of work after a start does not wait for Postgres to start backends.
   */
  async warm(): Promise<void> {
    const clients = await Promise.all(Array.from({ length: this.pool.options.max }, () => this.pool.connect()));
    for (const client of clients) client.release();
  }

  async connect(): Promise<Connection> {
    return new Connection(await this.pool.connect(), this);
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (tx: Connection) => Promise<T>, { isolation }: { isolation?: IsolationLevel } = {}): Promise<T> {
    const connection = await this.connect();
    try {
      await connection.run(isolation ? `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}` : "BEGIN");
      const result = await work(connection);
      await connection.run("COMMIT");
      connection.release();
      return result;
    } catch (error) {
      await connection.run("ROLLBACK").then(
        () => connection.release(),
        () => connection.destroy(),
      );
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
