import { orderEvents } from "@outbox/domain";
import { createDomainHandlers } from "@outbox/handlers";
import { createLogger } from "outbox-relay/logger";
import { eventColumns, type OutboxEvent } from "outbox-relay/outbox";
import { runBatch, type AnyHandlerMap, type EventJob } from "outbox-relay/processor";
import { toJob } from "outbox-relay/queues";
import { Database, sql } from "outbox-relay/sql";
import type { BenchSetup } from "../setup.ts";

export type StatementCounts = Record<string, Record<number, number>>;

const types = ["UserCreated", "ProductCreated", "OrderCreated"] as const;

/**
 * The statements one processor batch sends (its transaction, the marks, the handler), by event type
 * and batch size, with the real domain handlers on seeded entities: the figure that must not grow
 * with the batch.
 */
export async function statementsPerBatch(setup: BenchSetup, sizes = [1, 10, 100]): Promise<StatementCounts> {
  await setup.reset();
  await setup.insertDomainBacklog(3 * sizes.reduce((sum, size) => sum + size, 0) + 300);
  const db = new Database(setup.dbUrl, { poolSize: 2 });
  const deps = { db, catalog: orderEvents, handlers: createDomainHandlers() as AnyHandlerMap, logger: createLogger({ level: "warn" }) };
  const counts: StatementCounts = {};
  try {
    for (const type of types) {
      counts[type] = {};
      for (const size of sizes) {
        const rows = await db.query<OutboxEvent>(sql`
          SELECT ${eventColumns} FROM event_outbox o WHERE o.event_type = ${type} AND o.status = 'pending' ORDER BY o.sequence LIMIT ${size}`);
        const before = db.statementCount;
        const outcomes = await runBatch(deps, rows.map(asJob));
        if (outcomes.some((outcome) => outcome.kind !== "handled")) throw new Error(`a ${type} batch of ${size} did not handle every event`);
        counts[type][size] = db.statementCount - before;
      }
    }
    return counts;
  } finally {
    await db.close();
  }
}

/** The job the relay would queue for the row, as the processor receives it. */
function asJob(row: OutboxEvent): EventJob {
  return { id: row.id, attemptsMade: 0, maxAttempts: 3, data: toJob(row, orderEvents.policyOf(row.event_type)).data };
}
