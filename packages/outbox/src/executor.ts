import type { Queryable, Statement } from "@outbox/sql";

/**
 * Where outbox statements run: the engine's own connection (`@outbox/sql`), or a Prisma client or
 * interactive transaction of the caller's (Prisma's `$executeRaw` takes a tagged-template statement),
 * so an event commits with the caller's business rows whatever client wrote them.
 */
export type Executor = Queryable | PrismaLike;

interface PrismaLike {
  $executeRaw(query: never): PromiseLike<number>;
  $queryRaw(query: never): PromiseLike<unknown>;
}

function isPrisma(executor: Executor): executor is PrismaLike {
  return "$executeRaw" in executor;
}

export async function execute(executor: Executor, statement: Statement): Promise<number> {
  return isPrisma(executor) ? executor.$executeRaw(statement as never) : executor.execute(statement);
}

export async function query<Row>(executor: Executor, statement: Statement): Promise<Row[]> {
  return isPrisma(executor) ? ((await executor.$queryRaw(statement as never)) as Row[]) : executor.query<Row>(statement);
}
