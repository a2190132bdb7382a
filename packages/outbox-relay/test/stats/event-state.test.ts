import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "../../src/sql/index.ts";
import { useTestDatabase } from "@outbox/testing";
import { collectOutboxFigures, readEventState } from "../../src/stats/index.ts";
import { moveRelayPastEveryRow } from "./relay.ts";

const database = useTestDatabase();

/** One outbox row by plain SQL (as a producer may write it); returns its id. */
async function insert(status: string, aggregateId = randomUUID()): Promise<string> {
  const [row] = await database.sql.query<{ id: string }>(sql`
    INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status)
    VALUES (gen_random_uuid(), 'AccountOpened', 'account', ${aggregateId}, '{}'::jsonb, ${status})
    RETURNING id::text`);
  return row!.id;
}

const statusOf = async (id: string) => (await readEventState(database.sql, id))?.status;
const counts = async () => (await collectOutboxFigures(database.sql)).counts;

describe("pending → dispatched, as on-call reads it", () => {
  it("reads a pending row as dispatched once the relay has passed it, not while its transaction is watched", async () => {
    const id = await insert("pending");
    expect(await statusOf(id)).toBe("pending");
    expect(await counts()).toMatchObject({ pending: 1, dispatched: 0 });

    await moveRelayPastEveryRow(database.sql);
    expect(await statusOf(id)).toBe("dispatched");
    expect(await counts()).toMatchObject({ pending: 0, dispatched: 1 });

    // Still open when the position passed it: the relay reads it once its transaction commits.
    await database.sql.execute(sql`
      UPDATE outbox_relay_cursor SET watched = ARRAY(SELECT transaction_id FROM event_outbox WHERE id = ${id}::uuid)`);
    expect(await statusOf(id)).toBe("pending");
    expect(await counts()).toMatchObject({ pending: 1, dispatched: 0 });
    await database.sql.execute(sql`UPDATE event_outbox SET status = 'processed', processed_at = now() WHERE id = ${id}::uuid`);
    expect(await statusOf(id)).toBe("processed");
  });

  it("keeps a passed row pending while a dead event of its aggregate holds it, and dispatched once that is skipped", async () => {
    const aggregateId = randomUUID();
    const dead = await insert("dead", aggregateId);
    const held = await insert("pending", aggregateId);
    await moveRelayPastEveryRow(database.sql);
    expect(await statusOf(dead)).toBe("dead");
    expect(await statusOf(held)).toBe("pending");
    expect(await counts()).toMatchObject({ pending: 1, dispatched: 0, dead: 1 });

    await database.sql.execute(sql`UPDATE event_outbox SET status = 'skipped', processed_at = now() WHERE id = ${dead}::uuid`);
    expect(await statusOf(held)).toBe("dispatched");
    expect(await counts()).toMatchObject({ pending: 0, dispatched: 1, dead: 0 });
  });

  it("returns nothing for an unknown id", async () => {
    expect(await readEventState(database.sql, randomUUID())).toBeUndefined();
  });
});
