export {
  repeatOptionsFromConfig,
  scheduleNames,
  schedulesQueueName,
  type ScheduleConfig,
  type ScheduleName,
  type ScheduleRepeat,
} from "./definitions.ts";
export { expirePayments, type ExpirePaymentsOptions } from "./expire-payments.ts";
export { pruneOutbox, type PruneOutboxOptions } from "./prune-outbox.ts";
export { buildSettlement, previousUtcDay, type SettlementRow } from "./settlement.ts";
export { startSchedules, type RunningSchedules, type StartSchedulesOptions } from "./start.ts";
