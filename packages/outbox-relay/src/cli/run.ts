import type { Command } from "./args.ts";
import { dlqListCommand, dlqRetryAllCommand, dlqRetryCommand, dlqSkipCommand } from "./commands/dlq.ts";
import { replayCommand } from "./commands/replay.ts";
import { statsCommand } from "./commands/stats.ts";
import type { CommandContext } from "./output.ts";

/** Runs one parsed command (not "help") against the given connections. */
export async function runCommand(ctx: CommandContext, command: Exclude<Command, { name: "help" | "migrate" | "webhooks keys" | "webhooks reencrypt" }>): Promise<unknown> {
  switch (command.name) {
    case "stats":
      return statsCommand(ctx);
    case "dlq list":
      return dlqListCommand(ctx, command);
    case "dlq retry":
      return dlqRetryCommand(ctx, command.eventId);
    case "dlq retry all":
      return dlqRetryAllCommand(ctx, command);
    case "dlq skip":
      return dlqSkipCommand(ctx, command.eventId);
    case "replay":
      return replayCommand(ctx, command);
  }
}
