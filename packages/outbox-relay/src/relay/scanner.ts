import { CronTime } from "cron";
import type { Logger } from "../logger/index.ts";
import { listenForOutbox, type OutboxListener } from "../outbox/index.ts";
import type { QueueSet } from "../queues/index.ts";
import type { Database } from "../sql/index.ts";
import { relayOnce, type RelayStep } from "./relay.ts";

export interface ScannerOptions {
  db: Database;
  queues: QueueSet;
  logger: Logger;
  databaseUrl: string;
  batchSize: number;
  /** The safety-net tick (the `cron` package's syntax, seconds allowed). */
  scanCron: string;
  errorBackoffMs?: number;
  /** Overrides the catalog's first retry delay for every type (RETRY_BACKOFF_MS). */
  retryBackoffMs?: number | undefined;
  /**
   * Jobs waiting in the work queues past which the relay pauses (RELAY_MAX_QUEUED): Redis holds a
   * bounded buffer, not the whole backlog, and rows are read shortly before they are handled.
   */
  maxQueued?: number;
  /** Jobs queued by a step (called when it queued any). */
  onDispatched?: (count: number) => void;
  /** Every step that held the cursor, whether or not it read rows: the relay's heartbeat. */
  onStep?: (step: RelayStep) => void;
}

const queueFullRetryMs = 100;

/**
 * Relays committed outbox rows to their queues. Wakes on NOTIFY (bursts coalesce into one more
 * pass) and on the cron tick; each pass steps the relay until a step reads a short batch, so a
 * backlog never waits for a tick.
 */
export class OutboxScanner {
  private listener: OutboxListener | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;

  constructor(private readonly options: ScannerOptions) {}

  async start(): Promise<void> {
    const { databaseUrl, scanCron, logger } = this.options;
    this.listener = await listenForOutbox({
      databaseUrl,
      onNotify: () => this.wake(),
      onError: (error) => logger.warn({ err: error }, "outbox listener lost its connection; reconnecting"),
    });
    this.scheduleTick(new CronTime(scanCron));
    this.wake();
  }

  /**
   * The safety-net tick on a plain timer: `CronJob` writes a console warning whenever a busy
   * event loop makes it late, and a late safety net needs no warning.
   */
  private scheduleTick(time: CronTime): void {
    if (this.stopped) return;
    this.tickTimer = setTimeout(() => {
      this.wake();
      this.scheduleTick(time);
    }, Math.max(time.getTimeout(), 1));
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

  /** Stops relaying; resolves when the pass under way has committed what it queued. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.tickTimer);
    clearTimeout(this.retryTimer);
    await this.listener?.close();
    await this.pass;
  }

  private async runPass(): Promise<void> {
    const { batchSize, logger, errorBackoffMs = 1000 } = this.options;
    try {
      let read: number;
      do {
        this.wakeAgain = false;
        if (await this.queuesFull()) {
          // The backlog stays in Postgres until the queues drain below the bound.
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.wake(), queueFullRetryMs);
          return;
        }
        read = await this.relayStep();
      } while (read === batchSize && !this.stopped);
    } catch (error) {
      logger.error({ err: error }, "outbox relay failed; trying again");
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.wake(), errorBackoffMs);
    }
  }

  /**
   * Whether the work queues already hold `maxQueued` waiting events, a waiting job of the `events`
   * queue counted as a full batch (an upper bound). One Redis call per queue.
   */
  private async queuesFull(): Promise<boolean> {
    const { queues, maxQueued } = this.options;
    if (!maxQueued) return false;
    const [events, webhooks] = await Promise.all([queues.events, queues.webhooks].map((queue) => queue.getJobCountByTypes("wait", "prioritized")));
    return events! * queues.eventsPerJob + webhooks! >= maxQueued;
  }

  /** One relay step. Returns how many rows it read. */
  async relayStep(): Promise<number> {
    const { db, queues, batchSize, retryBackoffMs, onDispatched, onStep } = this.options;
    const step = await relayOnce({ db, queues, batchSize, retryBackoffMs });
    if (step.queued > 0) onDispatched?.(step.queued);
    if (!step.busy) onStep?.(step);
    return step.read;
  }
}
