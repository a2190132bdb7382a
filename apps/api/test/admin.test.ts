import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "outbox-relay/sql";
import { admin, startApi, type ApiHarness } from "./helpers.ts";

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi({ queues: true });
});
afterAll(async () => {
  await api.close();
});

/** A dead TenantCreated event and, behind it, a pending one of the same aggregate. */
async function deadWithFollower(): Promise<{ dead: string; next: string }> {
  const aggregateId = randomUUID();
  const [dead, next] = [randomUUID(), randomUUID()];
  for (const [id, status] of [[dead, "dead"], [next, "pending"]] as const) {
    await api.sql.execute(sql`
      INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error)
      VALUES (${id}::uuid, 'TenantCreated', 'tenant', ${aggregateId}, '{}'::jsonb, ${status}, 3, ${status === "dead" ? "boom" : null})`);
  }
  return { dead, next };
}

async function call(method: "GET" | "POST", url: string) {
  const response = await api.app.inject({ method, url, headers: admin });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

describe("the admin API on the engine's pool", () => {
  it("lists the DLQ and reports stats with held aggregates", async () => {
    const { dead } = await deadWithFollower();
    const list = await call("GET", "/admin/api/dlq");
    expect(list.status).toBe(200);
    // The shapes `pnpm outbox dlq list --json` and `pnpm outbox stats --json` print (outbox-relay/admin).
    expect(list.body.events).toEqual([
      {
        id: dead,
        eventType: "TenantCreated",
        aggregateType: "tenant",
        aggregateId: expect.any(String) as unknown,
        attempts: 3,
        lastError: "boom",
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as unknown,
        ageMs: expect.any(Number) as unknown,
      },
    ]);
    const stats = await call("GET", "/admin/api/stats");
    expect(stats.body).toMatchObject({ outbox: { dead: 1, pending: 1, dispatched: 0 }, estimated: [], dlqSize: 1, heldEvents: 1, heldAggregates: 1 });
  });

  it("retry queues the event's job before it answers; skip queues the event it held back", async () => {
    const retried = await deadWithFollower();
    expect(await call("POST", `/admin/api/dlq/${retried.dead}/retry`)).toEqual({ status: 200, body: { retried: [retried.dead] } });
    expect(await api.queues!.events.getJob(retried.dead)).toBeDefined();
    expect(await api.queues!.events.getJob(retried.next)).toBeUndefined();

    const skipped = await deadWithFollower();
    expect(await call("POST", `/admin/api/dlq/${skipped.dead}/skip`)).toEqual({ status: 200, body: { skipped: [skipped.dead] } });
    expect(await api.queues!.events.getJob(skipped.next)).toBeDefined();

    expect((await call("POST", `/admin/api/dlq/${skipped.dead}/skip`)).status).toBe(409);
    expect((await call("POST", `/admin/api/dlq/${randomUUID()}/retry`)).status).toBe(404);
  });

  it("retry-all answers the list of ids, as `pnpm outbox dlq retry --all --json` prints it", async () => {
    const { dead } = await deadWithFollower();
    const answer = await call("POST", "/admin/api/dlq/retry-all");
    expect(answer).toEqual({ status: 200, body: { retried: expect.arrayContaining([dead]) as unknown } });
    expect(await call("POST", "/admin/api/dlq/retry-all")).toEqual({ status: 200, body: { retried: [] } });
  });
});
