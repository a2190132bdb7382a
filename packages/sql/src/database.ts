import pg from "pg";
import type { Sql } from "sql-template-tag";

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
}

/**
 * One connection taken from the pool for a transaction. `release()` gives it back;
 * `destroy()` closes it instead, when a statement may still be running on it (a handler that
 * timed out): Postgres rolls its transaction back.
 */
export class Connection implements Queryable {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly database: Database,
  ) {}

  async query<Row>(statement: Sql): Promise<Row[]> {
    this.database.statementCount++;
    return (await this.client.query({ text: statement.text, values: statement.values })).rows as Row[];
  }

  async execute(statement: Sql): Promise<number> {
    this.database.statementCount++;
    return (await this.client.query({ text: statement.text, values: statement.values })).rowCount ?? 0;
  }

  /** Runs a statement with no parameters (BEGIN, SAVEPOINT, …). */
  async run(command: string): Promise<void> {
    this.database.statementCount++;
    await this.client.query(command);
  }

  release(): void {
    this.client.release();
  }

  /** Ends the backend from another connection (its statement stops at once), then drops this one. */
  async destroy(): Promise<void> {
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (pid) await this.database.pool.query("SELECT pg_terminate_backend($1)", [pid]).catch(() => undefined);
    this.client.release(true);
  }
}

export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

/** The pool. Every statement takes a connection for itself; `transaction` holds one throughout. */
export class Database implements Queryable {
  readonly pool: pg.Pool;
  /** Statements sent so far, through the pool and its transactions (the bench reports statements per batch). */
  statementCount = 0;

  constructor(url: string, { poolSize = 10, applicationName, onIdleError }: DatabaseOptions = {}) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, ...(applicationName ? { application_name: applicationName } : {}) });
    // pg attaches the failed client to the error; report the error alone (no connection settings in logs).
    this.pool.on("error", (error: Error & { code?: string }) => onIdleError?.(Object.assign(new Error(error.message), { code: error.code, stack: error.stack })));
  }

  async query<Row>(statement: Sql): Promise<Row[]> {
    this.statementCount++;
    return (await this.pool.query({ text: statement.text, values: statement.values })).rows as Row[];
  }

  async execute(statement: Sql): Promise<number> {
    this.statementCount++;
    return (await this.pool.query({ text: statement.text, values: statement.values })).rowCount ?? 0;
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
