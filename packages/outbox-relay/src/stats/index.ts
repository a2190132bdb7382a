export { collectQueueCounts, collectStats, type OutboxStats, type QueueCounts, type StatsLine } from "./collect.ts";
export { readEventState, type EventState } from "./event-state.ts";
export { collectOutboxFigures, exactCountLimit, type EstimatedFigure, type OutboxCounts, type OutboxFigures, type OutboxFiguresOptions } from "./outbox-counts.ts";
export { startStatsLog, type RunningStatsLog, type StatsLogOptions } from "./stats-log.ts";
