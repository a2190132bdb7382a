import { DeadLetterError, listDead, ReleaseNotQueuedError, retryAllDead, retryDead, skipDead, type DeadEvent } from "@outbox/dead-letter";
import { OperationError } from "../errors.ts";
import { humanAge, print, table, truncate, type CommandContext } from "../output.ts";

function asOperationError(error: unknown): never {
  if (error instanceof DeadLetterError || error instanceof ReleaseNotQueuedError) throw new OperationError(error.code, error.message, { cause: error });
  throw error;
}

/** `outbox dlq list [--type T] [--limit N]`: dead events, oldest first, from Postgres. */
export async function dlqListCommand(ctx: CommandContext, { type, limit }: { type?: string; limit?: number }): Promise<DeadEvent[]> {
  const dead = await listDead(ctx.db, { ...(type ? { type } : {}), ...(limit ? { limit } : {}) });
  const now = Date.now();
  const rows = dead.map((event) => ({
    id: event.id,
    type: event.eventType,
    aggregate: `${event.aggregateType}:${event.aggregateId}`,
    attempts: event.attempts,
    lastError: event.lastError,
    createdAt: event.createdAt.toISOString(),
    ageMs: now - event.createdAt.getTime(),
  }));
  print(ctx, rows, () =>
    rows.length === 0
      ? "no dead events"
      : table(
          ["id", "type", "aggregate", "attempts", "last error", "age"],
          rows.map((row) => [row.id, row.type, row.aggregate, row.attempts, truncate(row.lastError, 60), humanAge(row.ageMs)]),
        ),
  );
  return dead;
}

/** `outbox dlq retry <id>`: the dead event goes back to pending and runs again. */
export async function dlqRetryCommand(ctx: CommandContext, eventId: string): Promise<string[]> {
  await retryDead(ctx.db, ctx.queues, eventId, { retryBackoffMs: ctx.retryBackoffMs }).catch(asOperationError);
  print(ctx, { retried: [eventId] }, () => `retried ${eventId}`);
  return [eventId];
}

/** `outbox dlq retry --all [--type T]`: every dead event (of that type) goes back to pending. */
export async function dlqRetryAllCommand(ctx: CommandContext, { type }: { type?: string }): Promise<string[]> {
  const retried = await retryAllDead(ctx.db, ctx.queues, { ...(type ? { type } : {}), retryBackoffMs: ctx.retryBackoffMs });
  print(ctx, { retried }, () => `retried ${retried.length} dead event${retried.length === 1 ? "" : "s"}${type ? ` of type ${type}` : ""}`);
  return retried;
}

/** `outbox dlq skip <id>`: passes over the dead event for good, releasing its aggregate. */
export async function dlqSkipCommand(ctx: CommandContext, eventId: string): Promise<void> {
  await skipDead(ctx.db, ctx.queues, eventId, { retryBackoffMs: ctx.retryBackoffMs }).catch(asOperationError);
  print(ctx, { skipped: eventId }, () => `skipped ${eventId}`);
}
