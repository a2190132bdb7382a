export { eventColumns, heldBehindEarlier, type OutboxEvent } from "./event-row.ts";
export { findRunnableHeads, type AggregateRef } from "./heads.ts";
export { defaultRelayCursor, passedByRelay } from "./relay-position.ts";
export { markProcessed, recordFailures, revertMarks, type FailedRun, type MarkedEvent } from "./marks.ts";
export { outboxStatus, runnableStatuses, type OutboxStatus } from "./status.ts";
export { listenForOutbox, outboxChannel, type ListenOptions, type OutboxListener } from "./listen.ts";
export { replayProcessed, ReplayRefusedError, type ReplayedEvent, type ReplayOptions } from "./replay.ts";
