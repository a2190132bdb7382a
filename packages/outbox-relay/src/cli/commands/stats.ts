import type { StatsResult } from "../../admin/results.ts";
import type { EstimatedFigure } from "../../stats/index.ts";
import { humanAge, print, table, type CommandContext } from "../output.ts";

/** `outbox stats`: the figures of the stats log line, as tables; `~` marks an estimate. */
export async function statsCommand(ctx: CommandContext): Promise<StatsResult> {
  const stats = await ctx.admin.stats();
  const figure = (name: EstimatedFigure, value: number) => (stats.estimated.includes(name) ? `~${value}` : value);
  print(ctx, stats, () => {
    const { outbox } = stats;
    const counts = table(
      ["status", "events"],
      (["pending", "dispatched", "processed", "skipped", "dead"] as const).map((status) => [status, figure(status, outbox[status])]),
    );
    const queues = table(
      ["queue", "waiting", "active", "delayed", "failed"],
      Object.entries(stats.queues).map(([name, q]) => [name, q.waiting, q.active, q.delayed, q.failed]),
    );
    const summary = table(
      ["figure", "value"],
      [
        ["lag (oldest event free to run)", stats.lagMs === 0 ? "0s" : humanAge(stats.lagMs)],
        ["held events", figure("heldEvents", stats.heldEvents)],
        ["held aggregates", figure("heldAggregates", stats.heldAggregates)],
        ["dlq size", figure("dead", stats.dlqSize)],
        ["relay backlog (not read yet)", stats.relayBacklog],
        ["unknown types (wait for a worker)", unknownTypesFigure(stats.unknownTypes)],
      ],
    );
    const note = stats.estimated.length > 0 ? "\n(~ estimated: 100,000 rows or more, from the planner's statistics)" : "";
    return `${counts}${note}\n\n${queues}\n\n${summary}`;
  });
  return stats;
}

/** "none", or each type this CLI's catalog does not know with its pending events: "ParcelShipped 3". */
function unknownTypesFigure(unknownTypes: Record<string, number>): string {
  const entries = Object.entries(unknownTypes);
  return entries.length === 0 ? "none" : entries.map(([type, count]) => `${type} ${count}`).join(", ");
}
