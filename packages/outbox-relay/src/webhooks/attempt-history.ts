import { query, type Executor } from "../events/index.ts";
import { sql } from "../sql/index.ts";
import type { AttemptRecord } from "./attempts.ts";
import { couldOwn, isUuid, ofTenant } from "./endpoints.ts";
import { EndpointNotFoundError } from "./errors.ts";

/** One HTTP attempt as a tenant sees it: the recorded attempt, with its row's id and time. */
export type AttemptView = Omit<AttemptRecord, "endpointId"> & { id: string; createdAt: Date };

export interface AttemptPage {
  attempts: AttemptView[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: string | null;
}

/** Where a page ends: the last attempt's created_at as Postgres' exact text (microseconds kept), and its id. */
interface Position {
  createdAt: string;
  id: string;
}

export const maxAttemptPageSize = 100;

/** timestamptz as Postgres writes it as text: `2026-11-29 12:30:01.123456+00`; an offset Postgres accepts is at most 15:59:59. */
const timestampText = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d{1,6})?[+-](?:0\d|1[0-5])(?::[0-5]\d){0,2}$/;

/**
 * Whether `text` is a timestamptz Postgres could have written: its shape, a day and a time that
 * exist (month 13, day 45, Feb 29 outside leap years, hour 25 do not: Date rolls them over, so
 * they do not read back) and a year from 1 (Postgres refuses year 0).
 */
function isTimestampText(text: string): boolean {
  const match = timestampText.exec(text);
  if (!match) return false;
  const local = `${match[1]}T${match[2]}`;
  const time = new Date(`${local}Z`);
  return !local.startsWith("0000") && !Number.isNaN(time.getTime()) && time.toISOString().startsWith(local);
}

/** The opaque `before` cursor: base64url of `created_at|id`. */
export function encodeAttemptCursor(position: Position): string {
  return Buffer.from(`${position.createdAt}|${position.id}`, "utf8").toString("base64url");
}

/**
 * The position a cursor names, or null when it is not one this API made: the encoding of a real
 * time and an id, spelled exactly as encodeAttemptCursor spells it (base64url decoding skips
 * characters it does not know, so a cursor is also re-encoded and compared).
 */
export function decodeAttemptCursor(cursor: string): Position | null {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const separator = text.lastIndexOf("|");
  if (separator < 0) return null;
  const position = { createdAt: text.slice(0, separator), id: text.slice(separator + 1) };
  if (!isUuid(position.id) || !isTimestampText(position.createdAt)) return null;
  return encodeAttemptCursor(position) === cursor ? position : null;
}

/**
 * ownedEndpoint: $1 the endpoint, $2 the tenant (or none). Throws EndpointNotFoundError unless the
 * tenant owns the endpoint; primary key read, no lock.
 */
export async function requireOwnedEndpoint(executor: Executor, tenantId: string | null, endpointId: string): Promise<void> {
  const rows = couldOwn(tenantId, endpointId)
    ? await query(executor, sql`SELECT 1 FROM webhook_endpoints WHERE id = ${endpointId}::uuid AND ${ofTenant(tenantId)}`)
    : [];
  if (rows.length === 0) throw new EndpointNotFoundError(endpointId);
}

/**
 * attemptPage: $1 the endpoint, $2/$3 the position to start before (created_at text, id) or null
 * for the newest, $4 rows to read (one more than the page, to know whether another follows).
 * Newest first by (created_at, id), read backwards along webhook_attempts_endpoint_id_created_at_id_idx,
 * so a page costs its own rows however long the history. Plain read, no lock.
 */
function attemptPage(executor: Executor, endpointId: string, before: Position | null, take: number) {
  return query<AttemptView & { position: string }>(
    executor,
    sql`
      SELECT id::text AS id, event_id::text AS "eventId", coalesce(webhook_id, event_id)::text AS "webhookId", attempt,
        status_code AS "statusCode", duration_ms AS "durationMs", error, response_body AS "responseBody",
        created_at AS "createdAt", created_at::text AS position
      FROM webhook_attempts
      WHERE endpoint_id = ${endpointId}::uuid
        AND (${before?.createdAt ?? null}::timestamptz IS NULL
          OR (created_at, id) < (${before?.createdAt ?? null}::timestamptz, ${before?.id ?? null}::uuid))
      ORDER BY created_at DESC, id DESC
      LIMIT ${take}`,
  );
}

/**
 * One page of an endpoint's attempts, newest first. `before` is the previous page's `nextBefore`;
 * attempts recorded after the first page was read never shift later pages (keyset, not offset).
 * Another tenant's endpoint, or an unknown one, throws EndpointNotFoundError.
 */
export async function listAttempts(
  db: Executor,
  tenantId: string | null,
  endpointId: string,
  { limit = 50, before = null }: { limit?: number; before?: string | null } = {},
): Promise<AttemptPage> {
  await requireOwnedEndpoint(db, tenantId, endpointId);
  const position = before === null ? null : decodeAttemptCursor(before);
  if (before !== null && position === null) throw new TypeError("before is not a cursor this API returned");
  const size = Math.min(Math.max(1, Math.trunc(limit)), maxAttemptPageSize);
  const rows = await attemptPage(db, endpointId, position, size + 1);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    attempts: page.map(({ position: _position, ...attempt }) => attempt),
    nextBefore: rows.length > size && last ? encodeAttemptCursor({ createdAt: last.position, id: last.id }) : null,
  };
}
