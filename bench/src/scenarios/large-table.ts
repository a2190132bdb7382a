import { createQueues, createRedis } from "outbox-relay/queues";
import { defaultRelayCursor } from "outbox-relay/outbox";
import { readRelayStep } from "outbox-relay/relay";
import { Database, sql, type Statement } from "outbox-relay/sql";
import { collectStats } from "outbox-relay/stats";
import { median } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";
import { orderEvents } from "@outbox/domain";

export interface LargeTableResult {
  pending: number;
  processed: number;
  relayReadMsSmall: number;
  relayReadMsLarge: number;
  statsMsSmall: number;
  statsMsLarge: number;
  relayReadRatio: number;
  statsRatio: number;
  relayReadsRelayIndex: boolean;
}

class Rollback extends Error {}

/** One relay read of 500 rows after the cursor, rolled back so the cursor stays where it is. */
async function relayReadOnce(db: Database): Promise<number> {
  let ms = 0;
  await db
    .transaction(
      async (tx) => {
        const started = performance.now();
        await readRelayStep(tx, defaultRelayCursor, 500);
        ms = performance.now() - started;
        throw new Rollback();
      },
    )
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return ms;
}

async function measure(setup: BenchSetup, db: Database, runs: number) {
  const queues = createQueues(createRedis({ url: setup.env().REDIS_URL! }, "producer"), setup.prefix, orderEvents);
  try {
    const reads: number[] = [];
    const stats: number[] = [];
    for (let i = 0; i < runs; i++) {
      reads.push(await relayReadOnce(db));
      const started = performance.now();
      await collectStats(db, queues);
      stats.push(performance.now() - started);
    }
    return { readMs: median(reads), statsMs: median(stats) };
  } finally {
    await queues.close();
    queues.connection.disconnect();
  }
}

/** The plan of the relay's read, as it runs (the statement's own text, explained). */
async function relayPlan(db: Database): Promise<string> {
  let plan = "";
  const explaining = { query: async <Row>(statement: Statement) => {
    const rows = await db.query<{ "QUERY PLAN": string }>(sql`EXPLAIN ${statement}`);
    plan = rows.map((row) => row["QUERY PLAN"]).join("\n");
    return [] as Row[];
  }, execute: async () => 0 };
  await readRelayStep(explaining, defaultRelayCursor, 500);
  return plan;
}

/** Relay read and stats cost with 10,000 pending rows, then with 1,000,000 processed rows beside them. */
export async function largeTable(setup: BenchSetup, { pending = 10_000, processed = 1_000_000, runs = 15 } = {}): Promise<LargeTableResult> {
  const db = new Database(setup.dbUrl, { poolSize: 2 });
  try {
    await setup.reset();
    await setup.insertBacklog(pending);
    await db.execute(sql`ANALYZE event_outbox`);
    const small = await measure(setup, db, runs);
    await setup.insertBacklog(processed, "processed");
    await db.execute(sql`VACUUM ANALYZE event_outbox`);
    const large = await measure(setup, db, runs);
    const plan = await relayPlan(db);
    return {
      pending,
      processed,
      relayReadMsSmall: small.readMs,
      relayReadMsLarge: large.readMs,
      statsMsSmall: small.statsMs,
      statsMsLarge: large.statsMs,
      relayReadRatio: large.readMs / small.readMs,
      statsRatio: large.statsMs / small.statsMs,
      relayReadsRelayIndex: plan.includes("event_outbox_relay_idx"),
    };
  } finally {
    await db.close();
  }
}
