import { deadListResult, retryResult, skipResult, type DeadListResult, type RetryResult, type SkipResult } from "../../admin/results.ts";
import { DeadLetterError, listDead, ReleaseNotQueuedError, retryAllDead, retryDead, skipDead } from "../../dead-letter/index.ts";
import { OperationError } from "../errors.ts";
import { humanAge, print, table, truncate, type CommandContext } from "../output.ts";

function asOperationError(error: unknown): never {
  if (error instanceof DeadLetterError || error instanceof ReleaseNotQueuedError) throw new OperationError(error.code, error.message, { cause: error });
  throw error;
}

/** `outbox dlq list [--type T] [--limit N]`: dead events, oldest first, from Postgres. */
export async function dlqListCommand(ctx: CommandContext, { type, limit }: { type?: string; limit?: number }): Promise<DeadListResult> {
  const result = deadListResult(await listDead(ctx.db, { ...(type ? { type } : {}), ...(limit ? { limit } : {}) }));
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
  await retryDead(ctx.db, ctx.queues, eventId, { retryBackoffMs: ctx.retryBackoffMs }).catch(asOperationError);
  const result = retryResult([eventId]);
  print(ctx, result, () => `retried ${eventId}`);
  return result;
}

/** `outbox dlq retry --all [--type T]`: every dead event (of that type) goes back to pending. */
export async function dlqRetryAllCommand(ctx: CommandContext, { type }: { type?: string }): Promise<RetryResult> {
  const result = retryResult(await retryAllDead(ctx.db, ctx.queues, { ...(type ? { type } : {}), retryBackoffMs: ctx.retryBackoffMs }));
  const count = result.retried.length;
  print(ctx, result, () => `retried ${count} dead event${count === 1 ? "" : "s"}${type ? ` of type ${type}` : ""}`);
  return result;
}

/** `outbox dlq skip <id>`: passes over the dead event for good, releasing its aggregate. */
export async function dlqSkipCommand(ctx: CommandContext, eventId: string): Promise<SkipResult> {
  await skipDead(ctx.db, ctx.queues, eventId, { retryBackoffMs: ctx.retryBackoffMs }).catch(asOperationError);
  const result = skipResult([eventId]);
  print(ctx, result, () => `skipped ${eventId}`);
  return result;
}
