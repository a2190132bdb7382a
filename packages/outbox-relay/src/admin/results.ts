import type { DeadEvent } from "../dead-letter/index.ts";
import type { ReplayedEvent } from "../outbox/index.ts";
import type { OutboxStats } from "../stats/index.ts";

/** One dead event: `dlq list` and `GET /admin/api/dlq`. */
export interface DeadEventJson {
  id: string;
  eventType: string;
  aggregateType: string;
  aggregateId: string;
  attempts: number;
  lastError: string | null;
  /** ISO-8601. */
  createdAt: string;
  /** Age when listed, in ms. */
  ageMs: number;
}

/** `dlq list` / `GET /admin/api/dlq`: dead events, oldest first. */
export interface DeadListResult {
  events: DeadEventJson[];
}

/** `dlq retry <id>`, `dlq retry --all` / `POST /admin/api/dlq/:id/retry`, `POST /admin/api/dlq/retry-all`: the events sent back to pending. */
export interface RetryResult {
  retried: string[];
}

/** `dlq skip <id>` / `POST /admin/api/dlq/:id/skip`: the events passed over (status skipped). */
export interface SkipResult {
  skipped: string[];
}

/** `replay` / `POST /admin/api/replay`: the window (ISO-8601, until exclusive) and each copy published. */
export interface ReplayResult {
  type: string;
  since: string;
  until: string;
  replayed: ReplayedEvent[];
}

/** `stats` / `GET /admin/api/stats`: the stats log line's figures (see src/stats). */
export type StatsResult = OutboxStats;

export function deadListResult(events: readonly DeadEvent[], now = Date.now()): DeadListResult {
  return {
    events: events.map((event) => ({
      id: event.id,
      eventType: event.eventType,
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      attempts: event.attempts,
      lastError: event.lastError,
      createdAt: event.createdAt.toISOString(),
      ageMs: Math.max(0, now - event.createdAt.getTime()),
    })),
  };
}

export function retryResult(ids: readonly string[]): RetryResult {
  return { retried: [...ids] };
}

export function skipResult(ids: readonly string[]): SkipResult {
  return { skipped: [...ids] };
}

export function replayResult(type: string, since: Date, until: Date, replayed: readonly ReplayedEvent[]): ReplayResult {
  return { type, since: since.toISOString(), until: until.toISOString(), replayed: [...replayed] };
}
