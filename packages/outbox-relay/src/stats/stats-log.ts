import type { Logger } from "../logger/index.ts";
import type { Outcome } from "../processor/index.ts";
import type { QueueSet } from "../queues/index.ts";
import type { Queryable } from "../sql/index.ts";
import { collectStats, type StatsLine } from "./collect.ts";
import { warnUnknownTypes } from "./unknown-types.ts";

export interface StatsLogOptions {
  db: Queryable;
  queues: Pick<QueueSet, "all" | "catalog">;
  logger: Logger;
  /** STATS_INTERVAL_MS. */
  intervalMs: number;
}

export interface RunningStatsLog {
  /** Counts one processed job; feed it from the worker's onOutcome. */
  record(outcome: Pick<Outcome, "kind">): void;
  /** Collects and writes one line now (also what each interval does); returns it. */
  logNow(): Promise<StatsLine>;
  /** Stops the interval and waits for a line being written. */
  stop(): Promise<void>;
}

/**
 * One pino line per interval, `msg: "outbox stats"`, with the collectStats figures and the jobs
 * handled / failed (an attempt that threw: retried or dead) / dead since the previous line. A
 * collection that fails is logged as a warning and its counts carry over to the next line.
 */
export function startStatsLog({ db, queues, logger, intervalMs }: StatsLogOptions): RunningStatsLog {
  let handled = 0;
  let failed = 0;
  let dead = 0;
  let running: Promise<unknown> = Promise.resolve();

  const logNow = async (): Promise<StatsLine> => {
    const stats = await collectStats(db, queues);
    const line: StatsLine = { ...stats, handledSinceLast: handled, failedSinceLast: failed, deadSinceLast: dead };
    handled -= line.handledSinceLast;
    failed -= line.failedSinceLast;
    dead -= line.deadSinceLast;
    logger.info(line, "outbox stats");
    warnUnknownTypes(logger, stats.unknownTypes);
    return line;
  };

  const timer = setInterval(() => {
    running = logNow().catch((error: unknown) => logger.warn({ err: error }, "outbox stats could not be collected"));
  }, intervalMs);
  timer.unref();

  return {
    record(outcome) {
      if (outcome.kind === "handled") handled += 1;
      else if (outcome.kind === "retry") failed += 1;
      else if (outcome.kind === "dead") {
        failed += 1;
        dead += 1;
      }
    },
    logNow,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
