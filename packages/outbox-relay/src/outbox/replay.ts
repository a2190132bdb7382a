import { InvalidEventError, type AnyNewEvent, type EventCatalog } from "../events/index.ts";
import { sql, type Database } from "../sql/index.ts";

export interface ReplayOptions {
  catalog: EventCatalog;
  type: string;
  since: Date;
  /** Exclusive; defaults to now, so the copies themselves are never in the window. */
  until?: Date;
  batchSize?: number;
}

export interface ReplayedEvent {
  originalId: string;
  copyId: string;
}

/** A processed event that no longer matches its type's schema: nothing was replayed. */
export class ReplayRefusedError extends Error {
  readonly code = "REPLAY_INVALID_PAYLOAD";
}

interface ProcessedEvent {
  id: string;
  sequence: string;
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  payload: unknown;
}

/**
 * processedPage: processed events of one type created in [since, until), in sequence order, after
 * a sequence. Reads event_outbox_processed_type_idx; plain reads, no locks.
 */
function processedPage(db: Database, { type, since, until }: Omit<ReplayOptions, "catalog"> & { until: Date }, after: string, take: number) {
  return db.query<ProcessedEvent>(sql`
    SELECT id::text, sequence::text, aggregate_type AS "aggregateType", aggregate_id AS "aggregateId", tenant_id AS "tenantId", payload
    FROM event_outbox
    WHERE event_type = ${type} AND status = 'processed' AND created_at >= ${since} AND created_at < ${until} AND sequence > ${after}::bigint
    ORDER BY sequence
    LIMIT ${take}`);
}

/**
 * Publishes a copy of every processed event of one type created in the window, with a new id and
 * causation_id = the original's id, to rebuild a consumer; the originals stay as they are. Every
 * payload is first checked against today's schema: if one fails, nothing is published. Copies are
 * written in batches, each batch in one transaction. Copies run their handlers again.
 */
export async function replayProcessed(db: Database, options: ReplayOptions): Promise<{ until: Date; replayed: ReplayedEvent[] }> {
  const window = { ...options, until: options.until ?? new Date() };
  const batchSize = options.batchSize ?? 500;

  let last = "-1";
  let total = 0;
  for (;;) {
    const page = await processedPage(db, window, last, batchSize);
    for (const event of page) {
      try {
        options.catalog.parse(options.type, event.payload);
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error;
        throw new ReplayRefusedError(`event ${event.id} no longer matches the ${options.type} schema: ${error.message}; nothing was replayed`, { cause: error });
      }
    }
    total += page.length;
    if (page.length < batchSize) break;
    last = page.at(-1)!.sequence;
  }

  const replayed: ReplayedEvent[] = [];
  let after = "-1";
  while (replayed.length < total) {
    const page = await processedPage(db, window, after, Math.min(batchSize, total - replayed.length));
    if (page.length === 0) break;
    const copies = page.map((event) => ({
      type: options.type,
      payload: event.payload,
      aggregate: { type: event.aggregateType, id: event.aggregateId },
      tenantId: event.tenantId,
      causationId: event.id,
    })) as AnyNewEvent[];
    const ids = await db.transaction((tx) => options.catalog.publishMany(tx, copies));
    page.forEach((event, i) => replayed.push({ originalId: event.id, copyId: ids[i]! }));
    after = page.at(-1)!.sequence;
  }
  return { until: window.until, replayed };
}
