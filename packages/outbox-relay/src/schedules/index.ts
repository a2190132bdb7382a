export { outboxRetention, pruneOutbox, type PruneOutboxOptions } from "./prune-outbox.ts";
export { schedulesQueueName, startSchedules, type RunningSchedules, type Schedule, type ScheduleRepeat, type StartSchedulesOptions } from "./start.ts";
