import { defaultRelayCursor } from "../outbox/index.ts";
import { enqueueEvents, type QueueSet } from "../queues/index.ts";
import type { Database } from "../sql/index.ts";
import { moveCursor, readRelayStep, type RelayCursor, type RelayedRow } from "./cursor.ts";

export interface RelayOptions {
  db: Database;
  queues: QueueSet;
  batchSize: number;
  /** Overrides every type's first retry delay (RETRY_BACKOFF_MS). */
  retryBackoffMs?: number | undefined;
  cursorName?: string;
}

export interface RelayStep {
  /** Rows read forward from the position (a full batch means more may follow). */
  read: number;
  /** Jobs queued (rows read, less the held ones and those of types the catalog does not know). */
  queued: number;
  /** Another process holds the cursor. */
  busy: boolean;
}

/**
 * One relay step: reads the rows committed after the cursor, queues the jobs of those that may run
 * now, and moves the cursor, all in one transaction. A row is read once, with no write of its own;
 * if Redis refuses the jobs the transaction rolls back and the same rows are read again.
 */
export async function relayOnce({ db, queues, batchSize, retryBackoffMs, cursorName = defaultRelayCursor }: RelayOptions): Promise<RelayStep> {
  return db.transaction(async (tx) => {
    const step = await readRelayStep(tx, cursorName, batchSize);
    if (!step) return { read: 0, queued: 0, busy: true };
    const { cursor, rows } = step;
    const runnable = rows.filter((row) => !row.held);
    // Rows read late may be read again by the next steps (while the late read comes back full):
    // each gets its own job, whose id makes a second add a no-op, rather than a new batch each time.
    const [queued, queuedLate] = await Promise.all([
      enqueueEvents(queues, runnable.filter((row) => !row.late), { backoffMs: retryBackoffMs }),
      enqueueEvents(queues, runnable.filter((row) => row.late), { backoffMs: retryBackoffMs, eventsPerJob: 1 }),
    ]);
    const forward = rows.filter((row) => !row.late);
    const next = nextCursor(cursor, forward, rows.length - forward.length === batchSize);
    if (forward.length > 0 || !sameSet(next.watched, cursor.watched)) await moveCursor(tx, cursorName, next.position, next.watched);
    return { read: forward.length, queued: queued + queuedLate, busy: false };
  });
}

/**
 * The position after the last row read forward. Watched: every transaction open in this snapshot
 * below the new position (it may still commit rows there); a watched transaction that committed
 * is dropped once its rows were read in full (a full late read keeps the list as it was).
 */
export function nextCursor(cursor: RelayCursor, forward: readonly RelayedRow[], lateReadFull: boolean) {
  const last = forward.at(-1);
  const position = last ? { transactionId: last.transaction_id, sequence: last.sequence } : { transactionId: cursor.transactionId, sequence: cursor.sequence };
  const limit = BigInt(position.transactionId);
  const watched = new Set([...(lateReadFull ? cursor.watched : []), ...cursor.open.filter((xid) => BigInt(xid) < limit)]);
  return { position, watched: [...watched].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
