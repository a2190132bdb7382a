import type { RepeatOptions } from "bullmq";
import type { Env } from "@outbox/config";

export const schedulesQueueName = "schedules";

/** The job scheduler ids; also the names of the jobs they produce. Stable across deploys. */
export const scheduleNames = ["payment-expiry", "settlement", "outbox-retention"] as const;
export type ScheduleName = (typeof scheduleNames)[number];

export type ScheduleRepeat = Omit<RepeatOptions, "key">;

/** The settings the scheduled jobs read, from the parsed environment. */
export type ScheduleConfig = Pick<
  Env,
  "PAYMENT_EXPIRY_CRON" | "PAYMENT_EXPIRY_AFTER_MS" | "SETTLEMENT_CRON" | "RETENTION_CRON" | "OUTBOX_RETENTION_DAYS" | "OUTBOX_RETENTION_MS"
>;

/** When each schedule ticks. Cron patterns are read in UTC, so "0 8 * * *" is 08:00 UTC everywhere. */
export function repeatOptionsFromConfig(config: ScheduleConfig): Record<ScheduleName, ScheduleRepeat> {
  return {
    "payment-expiry": { pattern: config.PAYMENT_EXPIRY_CRON, tz: "UTC" },
    settlement: { pattern: config.SETTLEMENT_CRON, tz: "UTC" },
    "outbox-retention": { pattern: config.RETENTION_CRON, tz: "UTC" },
  };
}

export function isScheduleName(name: string): name is ScheduleName {
  return (scheduleNames as readonly string[]).includes(name);
}
