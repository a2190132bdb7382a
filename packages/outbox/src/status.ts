/**
 * An outbox row's status (docs/state-machine.md). `dispatched` is not written any more: the relay
 * keeps a cursor instead of a per-row mark, and a pending row the relay has passed is reported as
 * dispatched. The value stays valid for rows written by older versions and for readers.
 */
export const outboxStatus = {
  pending: "pending",
  dispatched: "dispatched",
  processed: "processed",
  dead: "dead",
  skipped: "skipped",
} as const;

export type OutboxStatus = (typeof outboxStatus)[keyof typeof outboxStatus];

/** The states a handler may still run from: pending, or dead and retried from the dead-letter queue. */
export const runnableStatuses: OutboxStatus[] = [outboxStatus.pending, outboxStatus.dead];
