import { CronJob } from "cron";
import type { PrismaClient } from "@outbox/db";
import { unorderedEventTypes } from "@outbox/events";
import type { Logger } from "@outbox/logger";
import { listenForOutbox, type OutboxListener } from "@outbox/outbox";
import type { QueueSet } from "@outbox/queues";
import { claimPending, nextDueAt } from "./claim.ts";
import { enqueue, releaseClaim } from "./dispatch.ts";

export interface ScannerOptions {
  prisma: PrismaClient;
  queues: QueueSet;
  logger: Logger;
  databaseUrl: string;
  batchSize: number;
  /** The safety-net tick (the `cron` package's syntax, seconds allowed). */
  scanCron: string;
  errorBackoffMs?: number;
  /** Overrides the catalog's first retry delay for every type (RETRY_BACKOFF_MS). */
  retryBackoffMs?: number | undefined;
  onDispatched?: (count: number) => void;
}

/**
 * Relays committed outbox rows to their queues. Wakes on NOTIFY (bursts coalesce into one more
 * pass), on the cron tick, and when a delayed row falls due; each pass claims and enqueues batches
 * until a batch comes back short, so a backlog never waits for a tick.
 */
export class OutboxScanner {
  private listener: OutboxListener | undefined;
  private tick: CronJob | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;
  private dueCheckedAt = 0;

  constructor(private readonly options: ScannerOptions) {}

  async start(): Promise<void> {
    const { databaseUrl, scanCron, logger } = this.options;
    this.listener = await listenForOutbox({
      databaseUrl,
      onNotify: () => this.wake(),
      onError: (error) => logger.warn({ err: error }, "outbox listener lost its connection; reconnecting"),
    });
    this.tick = CronJob.from({ cronTime: scanCron, onTick: () => this.wake(), start: true });
    this.wake();
  }

  /** Asks for a pass; while one runs, asks for one more after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.wakeAgain = true;
      return;
    }
    this.pass = this.runPass().finally(() => {
      this.pass = undefined;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  /** Stops claiming; resolves when the pass under way has enqueued what it claimed. */
  async stop(): Promise<void> {
    this.stopped = true;
    void this.tick?.stop();
    clearTimeout(this.dueTimer);
    await this.listener?.close();
    await this.pass;
  }

  private async runPass(): Promise<void> {
    const { batchSize, logger, errorBackoffMs = 1000 } = this.options;
    try {
      let claimed: number;
      do {
        this.wakeAgain = false;
        claimed = await this.scanOnce();
      } while (claimed === batchSize && !this.stopped);
      await this.scheduleNextDue();
    } catch (error) {
      logger.error({ err: error }, "outbox scan failed; trying again");
      clearTimeout(this.dueTimer);
      this.dueTimer = setTimeout(() => this.wake(), errorBackoffMs);
    }
  }

  /** One claim and enqueue. Returns how many rows it claimed. */
  async scanOnce(): Promise<number> {
    const { prisma, queues, batchSize, onDispatched } = this.options;
    const events = await claimPending(prisma, batchSize, unorderedEventTypes);
    if (events.length === 0) return 0;
    try {
      await enqueue(queues, events, this.options.retryBackoffMs);
    } catch (error) {
      await releaseClaim(prisma, events.map((event) => event.id));
      throw error;
    }
    onDispatched?.(events.length);
    return events.length;
  }

  /**
   * Sets a timer for the earliest delayed row. At most once a second: under a steady stream of
   * passes the query would cost more than the precision it buys (the tick is the safety net).
   */
  private async scheduleNextDue(): Promise<void> {
    if (Date.now() - this.dueCheckedAt < 1000) return;
    this.dueCheckedAt = Date.now();
    const due = await nextDueAt(this.options.prisma);
    clearTimeout(this.dueTimer);
    if (!due || this.stopped) return;
    const delayMs = Math.min(Math.max(due.getTime() - Date.now(), 0) + 5, 2 ** 31 - 1);
    this.dueTimer = setTimeout(() => this.wake(), delayMs);
  }
}
