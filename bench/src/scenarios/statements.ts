import { createDomainHandlers } from "@outbox/handlers";
import { createLogger } from "@outbox/logger";
import { runBatch, type EventJob } from "@outbox/processor";
import { Database, sql } from "@outbox/sql";
import type { BenchSetup } from "../setup.ts";

export type StatementCounts = Record<string, Record<number, number>>;

interface OutboxRow {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  payload: unknown;
}

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
  const deps = { db, handlers: createDomainHandlers(), logger: createLogger({ level: "warn" }) };
  const counts: StatementCounts = {};
  try {
    for (const type of types) {
      counts[type] = {};
      for (const size of sizes) {
        const rows = await db.query<OutboxRow>(sql`
          SELECT id::text, event_type, aggregate_type, aggregate_id, tenant_id, payload FROM event_outbox
          WHERE event_type = ${type} AND status = 'pending' ORDER BY sequence LIMIT ${size}`);
        const before = db.statementCount;
        const outcomes = await runBatch(deps, rows.map(toJob));
        if (outcomes.some((outcome) => outcome.kind !== "handled")) throw new Error(`a ${type} batch of ${size} did not handle every event`);
        counts[type][size] = db.statementCount - before;
      }
    }
    return counts;
  } finally {
    await db.close();
  }
}

function toJob(row: OutboxRow): EventJob {
  return {
    id: row.id,
    attemptsMade: 0,
    maxAttempts: 3,
    data: { type: row.event_type, payload: row.payload, aggregateType: row.aggregate_type, aggregateId: row.aggregate_id, tenantId: row.tenant_id, createdAt: new Date().toISOString(), previousAttempts: 0 },
  };
}
