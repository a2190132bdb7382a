export { eventColumns, type OutboxEvent } from "./event-row.ts";
export { findRunnableHeads, type AggregateRef } from "./heads.ts";
export { defaultRelayCursor, heldBehindEarlier, heldByDead, holdsLater, isDispatched, openOrderedOf, passedByRelay } from "./read-rules.ts";
export {
  markProcessed,
  markUnordered,
  outboxStatus,
  OutboxRowsLostError,
  pruneFinished,
  releaseHold,
  recordFailures,
  retryDeadRows,
  revertMarks,
  skipDeadRows,
  skipUnfinished,
  supersedeDeadRows,
  type FailedRun,
  type MarkedEvent,
  type OutboxStatus,
  type ReleasedEvent,
  type Transition,
  type UnfinishedFilter,
} from "./state-machine.ts";
export { listenForOutbox, outboxChannel, type ListenOptions, type OutboxListener } from "./listen.ts";
export { replayProcessed, ReplayRefusedError, type ReplayedEvent, type ReplayOptions } from "./replay.ts";
