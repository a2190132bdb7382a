import { collectStats, type OutboxStats } from "@outbox/stats";
import { humanAge, print, table, type CommandContext } from "../output.ts";

/** `outbox stats`: the figures of the stats log line, as tables (processed/skipped are estimates). */
export async function statsCommand(ctx: CommandContext): Promise<OutboxStats> {
  const stats = await collectStats(ctx.db, ctx.queues);
  print(ctx, stats, () => {
    const { outbox } = stats;
    const counts = table(
      ["status", "events"],
      [
        ["pending", outbox.pending],
        ["dispatched", outbox.dispatched],
        ["processed", `~${outbox.processed}`],
        ["skipped", `~${outbox.skipped}`],
        ["dead", outbox.dead],
      ],
    );
    const queues = table(
      ["queue", "waiting", "active", "delayed", "failed"],
      Object.entries(stats.queues).map(([name, q]) => [name, q.waiting, q.active, q.delayed, q.failed]),
    );
    const summary = table(
      ["figure", "value"],
      [
        ["lag (oldest due pending)", stats.lagMs === 0 ? "0s" : humanAge(stats.lagMs)],
        ["dlq size", stats.dlqSize],
        ["held aggregates", stats.heldAggregates],
        ["relay backlog (not read yet)", stats.relayBacklog],
      ],
    );
    return `${counts}\n(~ estimated from planner statistics)\n\n${queues}\n\n${summary}`;
  });
  return stats;
}
