import type { Executor } from "../events/index.ts";
import type { Database } from "../sql/index.ts";

/** A Prisma client as endpoint management uses it: raw statements and interactive transactions. */
interface PrismaTransactions {
  $transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T>;
}

/**
 * Where the webhook tables are: the package's `Database`, or the service's Prisma client (only its
 * raw statements are used, so no model of the tables is needed).
 */
export type WebhookDatabase = Database | (Executor & PrismaTransactions);

/** Runs `work` in one transaction of the database, whichever kind it is. */
export function inTransaction<T>(db: WebhookDatabase, work: (tx: Executor) => Promise<T>): Promise<T> {
  return "$transaction" in db ? db.$transaction(work) : db.transaction(work);
}
