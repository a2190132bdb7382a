export { adminOf, createAdmin, type AdminOptions, type OutboxAdmin, type ReplayFilter } from "./admin.ts";
export { DeadLetterError, ReleaseNotQueuedError } from "../dead-letter/index.ts";
export { ReplayRefusedError } from "../outbox/index.ts";
export {
  deadListResult,
  replayResult,
  retryResult,
  skipResult,
  type DeadEventJson,
  type DeadListResult,
  type ReplayResult,
  type RetryResult,
  type SkipResult,
  type StatsResult,
} from "./results.ts";
export { runCli, type CliOptions, type CliSettings } from "../cli/main.ts";
export type { ConnectionFlags } from "../cli/args.ts";
export { createQueues, type QueueSet } from "../queues/index.ts";
export { collectStats, readEventState, type EventState, type OutboxStats } from "../stats/index.ts";
