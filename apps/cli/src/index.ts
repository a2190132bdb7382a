export { parseCommandLine, usage, type Command, type ParsedCommandLine } from "./args.ts";
export { dlqListCommand, dlqRetryAllCommand, dlqRetryCommand, dlqSkipCommand } from "./commands/dlq.ts";
export { replayCommand, type ReplayedEvent, type ReplayOptions } from "./commands/replay.ts";
export type { DeadListResult, ReplayResult, RetryResult, SkipResult, StatsResult } from "outbox-relay/admin";
export { statsCommand } from "./commands/stats.ts";
export { exitCodes, OperationError, UsageError } from "./errors.ts";
export type { CommandContext, Output } from "./output.ts";
export { runCommand } from "./run.ts";
