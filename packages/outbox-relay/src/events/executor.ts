import type { Queryable, Statement } from "../sql/index.ts";

/**
 * Where outbox statements run: the engine's own connection (outbox-relay/sql's Queryable), a Prisma
 * client or interactive transaction of the caller's (Prisma's `$executeRaw` takes a tagged-template
 * statement), or a node-postgres client inside the caller's BEGIN … COMMIT, so an event commits
 * with the caller's business rows whatever client wrote them.
 */
export type Executor = Queryable | PrismaLike | PgClientLike;

interface PrismaLike {
  $executeRaw(query: never): PromiseLike<number>;
  $queryRaw(query: never): PromiseLike<unknown>;
}

/** node-postgres' Client and PoolClient: `query` takes a { text, values } config, as a Statement is. */
interface PgClientLike {
  query(config: { text: string; values: unknown[] }): PromiseLike<{ rows: unknown[]; rowCount: number | null }>;
}

function isPrisma(executor: Executor): executor is PrismaLike {
  return "$executeRaw" in executor;
}

function isQueryable(executor: Executor): executor is Queryable {
  return "execute" in executor;
}

export async function execute(executor: Executor, statement: Statement): Promise<number> {
  if (isPrisma(executor)) return executor.$executeRaw(statement as never);
  if (isQueryable(executor)) return executor.execute(statement);
  return (await executor.query({ text: statement.text, values: statement.values })).rowCount ?? 0;
}

export async function query<Row>(executor: Executor, statement: Statement): Promise<Row[]> {
  if (isPrisma(executor)) return (await executor.$queryRaw(statement as never)) as Row[];
  if (isQueryable(executor)) return executor.query<Row>(statement);
  return (await executor.query({ text: statement.text, values: statement.values })).rows as Row[];
}
