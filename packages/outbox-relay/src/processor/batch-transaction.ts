import type { Database, Queryable } from "../sql/index.ts";

/**
 * The transaction one run of a batch happens in: the engine's statements (marks, reverts,
 * failures) run on it as a Queryable, the handlers get `handlerTx`, and the run ends it.
 */
export interface BatchTransaction extends Queryable {
  /** What handlers get as `tx`: this transaction, or the service's Prisma client inside it. */
  readonly handlerTx: Queryable;
  /** Runs a statement with no parameters (SAVEPOINT, ROLLBACK TO SAVEPOINT …). */
  run(command: string): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Ends it while a handler may still be running a statement on it (the handler timed out). */
  abandon(): Promise<void>;
}

/** How long a run may last: every handler call is cut at the type's timeout. */
export interface RunBound {
  handlerTimeoutMs: number;
  events: number;
}

/** Opens the transaction of one run of a batch. */
export type BeginBatch = (bound: RunBound) => Promise<BatchTransaction>;

/** A transaction on one connection of the engine's pool. */
export function beginOnPool(db: Database): BeginBatch {
  return async () => {
    const connection = await db.connect();
    await connection.run("BEGIN").catch(async (error: unknown) => {
      await connection.destroy();
      throw error;
    });
    return {
      handlerTx: connection,
      query: (statement) => connection.query(statement),
      execute: (statement) => connection.execute(statement),
      run: (command) => connection.run(command),
      async commit() {
        await connection.run("COMMIT");
        connection.release();
      },
      rollback: () => connection.run("ROLLBACK").then(() => connection.release(), () => connection.destroy()),
      // The connection may still be busy with an abandoned handler: closed, it rolls back.
      abandon: () => connection.destroy(),
    };
  };
}
