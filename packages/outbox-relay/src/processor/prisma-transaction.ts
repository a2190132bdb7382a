import type { EventCatalog } from "../events/index.ts";
import { raw, sql, type Database, type Queryable, type Statement } from "../sql/index.ts";
import type { BatchTransaction, BeginBatch, RunBound } from "./batch-transaction.ts";
import type { HandlerMap } from "./handler.ts";

/** A Prisma 7 client on Postgres (any driver adapter), as the worker takes it: `$transaction` is what it uses. */
export interface PrismaClientLike {
  $transaction(work: (tx: unknown) => Promise<unknown>, options?: { maxWait?: number; timeout?: number; isolationLevel?: "ReadCommitted" }): Promise<unknown>;
}

/**
 * A handler's `tx` when the worker runs handlers through the Prisma client P: P's
 * interactive-transaction client (its models, `$queryRaw` …), which also runs the engine's `sql`
 * statements (`query`, `execute`), so handlers written for a Queryable run unchanged.
 */
export type PrismaTransaction<P extends PrismaClientLike> = Parameters<Parameters<P["$transaction"]>[0]>[0] & Queryable;

/**
 * The handlers of a catalog's events for a worker given a Prisma client of type P: each one's `tx`
 * is P's interactive-transaction client.
 *
 *     export const handlers = definePrismaHandlers<PrismaClient>()(events, {
 *       InvoiceRequested: async ({ tx, event }) => { await tx.invoice.update({ … }); },
 *     });
 */
export function definePrismaHandlers<P extends PrismaClientLike>() {
  return <C extends EventCatalog>(_catalog: C, handlers: HandlerMap<C, PrismaTransaction<P>>): HandlerMap<C, PrismaTransaction<P>> => handlers;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** Promise.withResolvers, which Node 20 lacks. */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** The raw-SQL methods of Prisma's interactive-transaction client that the engine calls. */
interface PrismaRawClient {
  $queryRaw(query: Statement): Promise<unknown>;
  $executeRaw(query: Statement): Promise<number>;
}

/**
 * Runs each batch's transaction as an interactive transaction of the service's Prisma client: the
 * handlers' model writes, the engine's statements and the processed marks commit together. `db`,
 * the engine's pool, ends a backend whose handler timed out.
 */
export function prismaTransactions(prisma: PrismaClientLike, db: Database): BeginBatch {
  for (const name of ["query", "execute"]) {
    if (name in prisma) throw new RangeError(`prisma: the client's "${name}" (a model) would hide the handlers' tx.${name}; rename the model (@@map keeps its table)`);
  }
  return (bound) => beginOnPrisma(prisma, db, bound);
}

/**
 * Prisma's transaction timeout: longer than any run can last, so that the engine, not Prisma,
 * ends it. A run calls handlers at most 2n + 1 times (the whole group, then each event alone),
 * each cut at the handler timeout; one more for the engine's own statements.
 */
function transactionTimeoutMs({ handlerTimeoutMs, events }: RunBound): number {
  return Math.min(handlerTimeoutMs * (2 * events + 2), 2 ** 31 - 1);
}

/**
 * Opens `prisma.$transaction` and holds it open from outside: the callback hands its client out,
 * then waits for `end`; resolving `end` commits, rejecting it rolls back. Read committed, whatever
 * the client's default: a second mark of an event waits for the first and reads the row again.
 */
async function beginOnPrisma(prisma: PrismaClientLike, db: Database, bound: RunBound): Promise<BatchTransaction> {
  const end = deferred<void>();
  const opened = deferred<PrismaRawClient>();
  const finished = prisma
    .$transaction(
      async (tx) => {
        opened.resolve(tx as PrismaRawClient);
        await end.promise;
      },
      { maxWait: bound.handlerTimeoutMs, timeout: transactionTimeoutMs(bound), isolationLevel: "ReadCommitted" },
    )
    .then(() => undefined);
  // A transaction that could not open (no connection within maxWait) fails `finished` only.
  finished.catch(opened.reject);
  const tx = await opened.promise;
  // Prisma's BEGIN and SET TRANSACTION, counted as the pool's BEGIN is (the bench reports statements per batch).
  db.statementCount += 2;
  try {
    const [backend] = (await tx.$queryRaw(sql`SELECT pg_backend_pid() AS pid`)) as { pid: number }[];
    return new PrismaBatchTransaction(tx, db, backend!.pid, end, finished);
  } catch (error) {
    end.reject(error);
    await finished.catch(() => undefined);
    throw error;
  }
}

class PrismaBatchTransaction implements BatchTransaction {
  readonly handlerTx: Queryable;

  constructor(
    private readonly tx: PrismaRawClient,
    private readonly db: Database,
    private readonly pid: number,
    private readonly end: Deferred<void>,
    private readonly finished: Promise<void>,
  ) {
    this.handlerTx = withQueryable(tx, this);
  }

  async query<Row>(statement: Statement): Promise<Row[]> {
    this.db.statementCount++;
    return (await this.tx.$queryRaw(statement)) as Row[];
  }

  async execute(statement: Statement): Promise<number> {
    this.db.statementCount++;
    return this.tx.$executeRaw(statement);
  }

  async run(command: string): Promise<void> {
    this.db.statementCount++;
    await this.tx.$executeRaw(raw(command));
  }

  async commit(): Promise<void> {
    this.db.statementCount++;
    this.end.resolve();
    await this.finished;
  }

  /** Prisma rolls back when the callback throws, and throws that error again: nothing to report. */
  async rollback(): Promise<void> {
    this.db.statementCount++;
    this.end.reject(new Error("rolled back by the engine"));
    await this.finished.catch(() => undefined);
  }

  /** Ends the backend first: a statement still running would hold Prisma's ROLLBACK back, and the rows it locked. */
  async abandon(): Promise<void> {
    await this.db.query(sql`SELECT pg_terminate_backend(${this.pid}::int)`).catch(() => undefined);
    await this.rollback();
  }
}

/** Prisma's transaction client with the engine's `query` and `execute` beside its models. */
function withQueryable(tx: PrismaRawClient, queryable: Queryable): Queryable {
  const query = queryable.query.bind(queryable);
  const execute = queryable.execute.bind(queryable);
  return new Proxy(tx, {
    get: (target, key): unknown => (key === "query" ? query : key === "execute" ? execute : Reflect.get(target, key)),
  }) as PrismaRawClient & Queryable;
}
