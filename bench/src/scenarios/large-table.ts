import { Prisma } from "@outbox/db";
import { unorderedEventTypes } from "@outbox/events";
import { createQueues, createRedis } from "@outbox/queues";
import { claimStatement } from "@outbox/scanner";
import { collectStats } from "@outbox/stats";
import { median } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";

export interface LargeTableResult {
  pending: number;
  processed: number;
  claimMsSmall: number;
  claimMsLarge: number;
  statsMsSmall: number;
  statsMsLarge: number;
  claimRatio: number;
  statsRatio: number;
  claimUsesPendingIndex: boolean;
  claimPlan: string;
}

class Rollback extends Error {}

/** One claim of a full batch, rolled back so the table stays as it is. Returns ms and the plan. */
async function claimOnce(setup: BenchSetup): Promise<{ ms: number; plan: string }> {
  let result = { ms: 0, plan: "" };
  await setup.prisma
    .$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ "QUERY PLAN": string }[]>(Prisma.sql`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${claimStatement(500, unorderedEventTypes)}`);
      const plan = rows.map((row) => row["QUERY PLAN"]).join("\n");
      result = { ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? Number.NaN), plan };
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return result;
}

async function measure(setup: BenchSetup, runs: number) {
  const queues = createQueues(createRedis({ url: setup.env().REDIS_URL! }, "producer"), setup.prefix);
  try {
    const claims: number[] = [];
    const stats: number[] = [];
    let plan = "";
    for (let i = 0; i < runs; i++) {
      const claim = await claimOnce(setup);
      claims.push(claim.ms);
      plan = claim.plan;
      const started = performance.now();
      await collectStats(setup.prisma, queues);
      stats.push(performance.now() - started);
    }
    return { claimMs: median(claims), statsMs: median(stats), plan };
  } finally {
    await queues.close();
    queues.connection.disconnect();
  }
}

/** Claim and stats cost with 10,000 pending rows, then with 1,000,000 processed rows beside them. */
export async function largeTable(setup: BenchSetup, { pending = 10_000, processed = 1_000_000, runs = 15 } = {}): Promise<LargeTableResult> {
  await setup.reset();
  await setup.insertBacklog(pending);
  await setup.prisma.$executeRawUnsafe("ANALYZE event_outbox");
  const small = await measure(setup, runs);
  await setup.insertBacklog(processed, "processed");
  await setup.prisma.$executeRawUnsafe("VACUUM ANALYZE event_outbox");
  const large = await measure(setup, runs);
  return {
    pending,
    processed,
    claimMsSmall: small.claimMs,
    claimMsLarge: large.claimMs,
    statsMsSmall: small.statsMs,
    statsMsLarge: large.statsMs,
    claimRatio: large.claimMs / small.claimMs,
    statsRatio: large.statsMs / small.statsMs,
    claimUsesPendingIndex: large.plan.includes("event_outbox_pending_idx"),
    claimPlan: large.plan,
  };
}
