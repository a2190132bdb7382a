import type { PrismaClient } from "@outbox/db";
import { InvalidEventError, parseEvent, type EventType } from "@outbox/events";
import { publishMany, type NewEvent } from "@outbox/outbox";
import { OperationError } from "../errors.ts";
import { print, type CommandContext } from "../output.ts";

export interface ReplayOptions {
  type: EventType;
  since: Date;
  /** Exclusive; defaults to now. */
  until?: Date;
  batchSize?: number;
}

export interface ReplayedEvent {
  originalId: string;
  copyId: string;
}

interface ProcessedEvent {
  id: string;
  sequence: bigint;
  eventType: string;
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  payload: unknown;
}

/** Processed events of one type created in [since, until), in commit order, one page after `after`. Reads event_outbox_processed_type_idx. */
function processedPage(prisma: PrismaClient, { type, since, until }: ReplayOptions & { until: Date }, after: bigint, take: number) {
  return prisma.eventOutbox.findMany({
    where: { eventType: type, status: "processed", createdAt: { gte: since, lt: until }, sequence: { gt: after } },
    orderBy: { sequence: "asc" },
    take,
    select: { id: true, sequence: true, eventType: true, aggregateType: true, aggregateId: true, tenantId: true, payload: true },
  }) as Promise<ProcessedEvent[]>;
}

/**
 * `outbox replay --type T --since ISO [--until ISO]`: publishes a copy of every processed event of
 * that type created in the window, with a new id and causation_id = the original's id, so a
 * consumer can be rebuilt; the originals stay as they are. Every payload is first checked against
 * today's schema; if one fails, nothing is published (exit 1) and the message names the event.
 * Copies are written in batches, each batch in one transaction.
 */
export async function replayCommand(ctx: CommandContext, options: ReplayOptions): Promise<ReplayedEvent[]> {
  const window = { ...options, until: options.until ?? new Date() };
  const batchSize = options.batchSize ?? 500;

  // Pass 1: validate every payload and fix the set (up to the last sequence seen).
  let last = -1n;
  let total = 0;
  for (;;) {
    const page = await processedPage(ctx.prisma, window, last, batchSize);
    for (const event of page) {
      try {
        parseEvent(options.type, event.payload);
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error;
        throw new OperationError("REPLAY_INVALID_PAYLOAD", `event ${event.id} no longer matches the ${options.type} schema: ${error.message}; nothing was replayed`, { cause: error });
      }
    }
    total += page.length;
    if (page.length < batchSize) break;
    last = page.at(-1)!.sequence;
  }

  // Pass 2: publish the copies.
  const replayed: ReplayedEvent[] = [];
  let after = -1n;
  while (replayed.length < total) {
    const page = (await processedPage(ctx.prisma, window, after, Math.min(batchSize, total - replayed.length)));
    if (page.length === 0) break;
    const copies = page.map((event) => ({
      type: options.type,
      payload: event.payload,
      aggregate: { type: event.aggregateType, id: event.aggregateId },
      tenantId: event.tenantId,
      causationId: event.id,
    })) as NewEvent[];
    const ids = await ctx.prisma.$transaction((tx) => publishMany(tx, copies as Parameters<typeof publishMany>[1]));
    page.forEach((event, i) => replayed.push({ originalId: event.id, copyId: ids[i]! }));
    after = page.at(-1)!.sequence;
  }

  const range = `${window.since.toISOString()} .. ${window.until.toISOString()}`;
  print(ctx, { type: options.type, since: window.since.toISOString(), until: window.until.toISOString(), replayed }, () =>
    [`replayed ${replayed.length} ${options.type} event${replayed.length === 1 ? "" : "s"} created ${range}`, ...replayed.map((r) => `${r.originalId} -> ${r.copyId}`)].join("\n"),
  );
  return replayed;
}
