import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Outcome } from "../processor/index.ts";
import type { OutboxStats } from "../stats/index.ts";

export interface CreateMetricsOptions {
  /** Read at scrape time for the outbox and queue gauges (e.g. () => collectStats(db, queues)). */
  stats?: () => Promise<OutboxStats>;
  /** A scrape reuses stats younger than this instead of collecting again. */
  statsMaxAgeMs?: number;
  /** Process metrics (CPU, memory, event loop lag); on by default. */
  defaultMetrics?: boolean;
  /** This process relays the outbox (the worker): export the relay's progress counter and heartbeat. */
  relay?: boolean;
  /** Run at scrape time for `outbox_ready{check}`: each readiness check's answer (true when it answers). */
  readiness?: () => Promise<Record<string, boolean>>;
}

export interface Metrics {
  registry: Registry;
  /** Feed from the worker's onOutcome(type, outcome). */
  recordOutcome(type: string, outcome: Outcome): void;
  /** Sets the outbox and queue gauges from a stats snapshot. */
  refreshFromStats(stats: OutboxStats): void;
  /** Feed from the scanner's onDispatched(count): jobs the relay queued. */
  recordDispatched(count: number): void;
  /** Feed from the scanner's onStep: the relay completed a step (the heartbeat). */
  recordRelayStep(): void;
}

const queueStates = ["waiting", "active", "delayed", "failed"] as const;
const handlerBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * One Prometheus registry per process. Counters count what this process did (handled, failed,
 * dead; a service's own, such as webhook attempts, register on `registry`); the outbox and queue gauges describe shared state and are set from the
 * stats at scrape time, because "published" and the backlog belong to no single process.
 */
export function createMetrics({ stats, statsMaxAgeMs = 1000, defaultMetrics = true, relay = false, readiness }: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  const handled = new Counter({ name: "events_handled_total", help: "Events whose handler succeeded, by type.", labelNames: ["type"], registers: [registry] });
  const failed = new Counter({ name: "events_failed_total", help: "Handler runs that failed (to be retried or dead), by type.", labelNames: ["type"], registers: [registry] });
  const dead = new Counter({ name: "events_dead_total", help: "Events that went to the dead-letter queue, by type.", labelNames: ["type"], registers: [registry] });
  const duration = new Histogram({
    name: "event_handler_duration_seconds",
    help: "Handler run time, successful or not, by type.",
    labelNames: ["type"],
    buckets: handlerBuckets,
    registers: [registry],
  });

  const statsErrors = new Counter({
    name: "outbox_stats_errors_total",
    help: "Scrapes whose stats read failed (gauges kept their last values).",
    registers: [registry],
    collect: () => refreshAtScrape(),
  });

  // Scrape-time gauges: every metric's collect joins the one stats read in flight, so a scrape
  // reads the stats once; a read younger than statsMaxAgeMs is reused. A failed read keeps the
  // previous values and counts the failure, so /metrics still answers.
  let inflight: Promise<void> | undefined;
  let lastReadAt = 0;
  const refreshAtScrape = (): Promise<void> | undefined => {
    if (!stats) return undefined;
    if (inflight) return inflight;
    if (Date.now() - lastReadAt < statsMaxAgeMs) return undefined;
    inflight = stats()
      .then(
        (snapshot) => {
          refreshFromStats(snapshot);
          lastReadAt = Date.now();
        },
        () => statsErrors.inc(),
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect: refreshAtScrape });
  const outboxEvents = gauge("outbox_events_total", "Outbox rows by status (exact below 100,000 rows per status, estimated from planner statistics above).", ["status"]);
  const lag = gauge("outbox_lag_seconds", "Age of the oldest pending event free to run (due, not held behind an earlier unfinished event of its aggregate).");
  const heldEvents = gauge("held_events", "Pending events held behind an earlier unfinished event of their aggregate.");
  const queueJobs = gauge("queue_jobs", "BullMQ jobs by queue and state.", ["queue", "state"]);
  const dlqSize = gauge("dead_letter_events", "Dead events in Postgres (the DLQ).");
  const held = gauge("held_aggregates", "Aggregates held back by a dead event.");
  const relayBacklog = gauge("outbox_relay_backlog_events", "Pending rows the relay has not read yet.");
  const unknownType = gauge(
    "outbox_unknown_type_events",
    "Pending events whose type this process's catalog does not know, by type: they wait for a worker that knows it.",
    ["type"],
  );
  const relayMetrics = relay ? createRelayMetrics(registry) : undefined;
  if (readiness) registerReadiness(registry, readiness);

  function refreshFromStats(snapshot: OutboxStats): void {
    for (const [status, count] of Object.entries(snapshot.outbox) as [string, number][]) outboxEvents.set({ status }, count);
    lag.set(snapshot.lagMs / 1000);
    for (const [queue, counts] of Object.entries(snapshot.queues)) {
      for (const state of queueStates) queueJobs.set({ queue, state }, counts[state]);
    }
    dlqSize.set(snapshot.dlqSize);
    held.set(snapshot.heldAggregates);
    relayBacklog.set(snapshot.relayBacklog);
    heldEvents.set(snapshot.heldEvents);
    // Reset first: a type handled since the last read leaves the series.
    unknownType.reset();
    for (const [type, count] of Object.entries(snapshot.unknownTypes)) unknownType.set({ type }, count);
  }

  return {
    registry,
    recordOutcome(type, outcome) {
      if (outcome.kind === "skipped") return;
      duration.observe({ type }, outcome.durationMs / 1000);
      if (outcome.kind === "handled") handled.inc({ type });
      else failed.inc({ type });
      if (outcome.kind === "dead") dead.inc({ type });
    },
    refreshFromStats,
    recordDispatched(count) {
      relayMetrics?.dispatched.inc(count);
    },
    recordRelayStep() {
      relayMetrics?.lastStep.setToCurrentTime();
    },
  };
}

/** The relay's own progress: only a process that relays exports them (an API's zeros would read as a stalled relay). */
function createRelayMetrics(registry: Registry) {
  return {
    dispatched: new Counter({ name: "outbox_dispatched_total", help: "Events the relay queued (outbox rows read and sent to their queues, one job each or many to a batch job).", registers: [registry] }),
    lastStep: new Gauge({
      name: "outbox_relay_last_step_timestamp_seconds",
      help: "Unix time of the relay's last completed step in this process (it steps at least every SCAN_CRON tick).",
      registers: [registry],
    }),
  };
}

/** outbox_ready{check}: the readiness checks (/readyz's), run at each scrape, 1 when the check answers. */
function registerReadiness(registry: Registry, readiness: () => Promise<Record<string, boolean>>): void {
  new Gauge({
    name: "outbox_ready",
    help: "1 when the readiness check answers (the dependency is reachable), 0 when it fails; run at each scrape.",
    labelNames: ["check"],
    registers: [registry],
    async collect() {
      for (const [check, ok] of Object.entries(await readiness())) this.set({ check }, ok ? 1 : 0);
    },
  });
}
