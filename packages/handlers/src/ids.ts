import { PermanentError } from "outbox-relay";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The distinct ids that can name a row of a uuid column, as Postgres prints them. Payload ids are
 * any string; one that is not a UUID names no row, and must not fail the statement of a whole batch.
 */
export function uuidsOf(ids: Iterable<string>): string[] {
  return [...new Set([...ids].filter((id) => uuidPattern.test(id)).map((id) => id.toLowerCase()))];
}

/** An id a handler writes into a uuid column: anything else is a payload no retry can mend. */
export function requireUuid(kind: string, id: string): string {
  if (!uuidPattern.test(id)) throw new PermanentError(`${kind} ${id} is not a UUID`);
  return id.toLowerCase();
}

/**
 * The row found for each requested id, keyed by the id as the payload spells it. A missing row is
 * a PermanentError: it fails the whole batch call, and the processor then runs each event alone,
 * so only the event that names it fails.
 */
export function requireEach<Row extends { id: string }>(kind: string, ids: Iterable<string>, rows: readonly Row[]): Map<string, Row> {
  const found = new Map(rows.map((row) => [row.id, row]));
  const result = new Map<string, Row>();
  for (const id of ids) {
    const row = found.get(id.toLowerCase());
    if (!row) throw new PermanentError(`${kind} ${id} does not exist`);
    result.set(id, row);
  }
  return result;
}

/** The first of the items for each key, in their order: the one a run one at a time would act on. */
export function firstPerKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
