import { sql, type Database } from "../../src/sql/index.ts";

/** As if the relay had read every row committed so far: its cursor moves to the last one, watching nothing. */
export async function moveRelayPastEveryRow(db: Database): Promise<void> {
  await db.execute(sql`
    UPDATE outbox_relay_cursor c SET transaction_id = last.transaction_id, sequence = last.sequence, watched = '{}'
    FROM (SELECT transaction_id, sequence FROM event_outbox ORDER BY transaction_id DESC, sequence DESC LIMIT 1) AS last
    WHERE c.name = 'default'`);
}
