import type { DeadListResult, RetryResult, SkipResult } from "../../admin/results.ts";
import { DeadLetterError, ReleaseNotQueuedError } from "../../dead-letter/index.ts";
import { OperationError } from "../errors.ts";
import { humanAge, print, table, truncate, type CommandContext } from "../output.ts";

function asOperationError(error: unknown): never {
  if (error instanceof DeadLetterError || error instanceof ReleaseNotQueuedError) throw new OperationError(error.code, error.message, { cause: error });
  throw error;
}

/** `outbox dlq list [--type T] [--limit N]`: dead events, oldest first, from Postgres. */
export async function dlqListCommand(ctx: CommandContext, { type, limit }: { type?: string; limit?: number }): Promise<DeadListResult> {
  const result = await ctx.admin.listDead({ type, limit });
  print(ctx, result, () =>
    result.events.length === 0
      ? "no dead events"
      : table(
          ["id", "type", "aggregate", "attempts", "last error", "age"],
          result.events.map((event) => [
            event.id,
            event.eventType,
            `${event.aggregateType}:${event.aggregateId}`,
            event.attempts,
            truncate(event.lastError, 60),
            humanAge(event.ageMs),
          ]),
        ),
  );
  return result;
}

/** `outbox dlq retry <id>`: the dead event goes back to pending and runs again. */
export async function dlqRetryCommand(ctx: CommandContext, eventId: string): Promise<RetryResult> {
  const result = await ctx.admin.retryDead(eventId).catch(asOperationError);
  print(ctx, result, () => `retried ${eventId}`);
  return result;
}

/** `outbox dlq retry --all [--type T]`: every dead event (of that type) goes back to pending. */
export async function dlqRetryAllCommand(ctx: CommandContext, { type }: { type?: string }): Promise<RetryResult> {
  const result = await ctx.admin.retryAllDead({ type });
  const count = result.retried.length;
  print(ctx, result, () => `retried ${count} dead event${count === 1 ? "" : "s"}${type ? ` of type ${type}` : ""}`);
  return result;
}

/** `outbox dlq skip <id>`: passes over the dead event for good, releasing its aggregate. */
export async function dlqSkipCommand(ctx: CommandContext, eventId: string): Promise<SkipResult> {
  const result = await ctx.admin.skipDead(eventId).catch(asOperationError);
  print(ctx, result, () => `skipped ${eventId}`);
  return result;
}
