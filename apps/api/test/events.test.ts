import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "outbox-relay/sql";
import { get, orderBody, post, seedShop, startApi, type ApiHarness } from "./helpers.ts";

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

/** As if the relay had read every row committed so far. */
async function relayPassesEveryRow(): Promise<void> {
  await api.sql.execute(sql`
    UPDATE outbox_relay_cursor c SET transaction_id = last.transaction_id, sequence = last.sequence, watched = '{}'
    FROM (SELECT transaction_id, sequence FROM event_outbox ORDER BY transaction_id DESC, sequence DESC LIMIT 1) AS last
    WHERE c.name = 'default'`);
}

describe("GET /api/events/:id", () => {
  it("reports pending → dispatched → processed as the event moves through the pipeline", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const created = await post(api.app, "/api/orders", orderBody(tenantId, productId), auth);
    const url = `/api/events/${created.body.eventId}`;
    expect((await get(api.app, url, auth)).body).toMatchObject({ status: "pending", handledAt: null });

    await relayPassesEveryRow();
    expect((await get(api.app, url, auth)).body).toMatchObject({ status: "dispatched", attempts: 0, handledAt: null });

    await api.sql.execute(sql`UPDATE event_outbox SET status = 'processed', processed_at = now(), attempts = 1 WHERE id = ${created.body.eventId}::uuid`);
    const processed = await get(api.app, url, auth);
    expect(processed.body).toMatchObject({ status: "processed", attempts: 1 });
    expect(processed.body.handledAt).toBe(processed.body.processedAt);
  });

  it("keeps a passed event pending while a dead event of its aggregate holds it", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const created = await post(api.app, "/api/orders", orderBody(tenantId, productId), auth);
    const cancelled = await post(api.app, `/api/orders/${created.body.id}/cancel`, { reason: "changed my mind" }, auth);
    expect(cancelled.status).toBe(202);
    await api.sql.execute(sql`UPDATE event_outbox SET status = 'dead', last_error = 'boom' WHERE id = ${created.body.eventId}::uuid`);
    await relayPassesEveryRow();
    expect((await get(api.app, `/api/events/${cancelled.body.eventId}`, auth)).body).toMatchObject({ status: "pending", type: "OrderCancelled" });
    expect((await get(api.app, `/api/events/${created.body.eventId}`, auth)).body).toMatchObject({ status: "dead", lastError: "boom" });
  });
});
