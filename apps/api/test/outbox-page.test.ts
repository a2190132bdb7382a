import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboxEvent } from "outbox-relay/outbox";
import { enqueueEvents } from "outbox-relay/queues";
import { sql } from "outbox-relay/sql";
import { admin, startApi, type ApiHarness } from "./helpers.ts";

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi({ queues: true });
});
afterAll(async () => {
  await api.close();
});

interface Row {
  id?: string;
  type?: string;
  aggregateType?: string;
  aggregateId: string;
  tenantId?: string | null;
  status?: string;
  payload?: unknown;
  causationId?: string | null;
  lastError?: string | null;
}

/** Inserts rows in this order (so in this sequence order) and returns their ids. */
async function insert(rows: Row[]): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) {
    const id = row.id ?? randomUUID();
    ids.push(id);
    await api.sql.execute(sql`
      INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, tenant_id, payload, status, attempts, last_error, causation_id, processed_at)
      VALUES (${id}::uuid, ${row.type ?? "TenantCreated"}, ${row.aggregateType ?? "tenant"}, ${row.aggregateId}, ${row.tenantId ?? null},
        ${JSON.stringify(row.payload ?? {})}::jsonb, ${row.status ?? "processed"}, ${row.status === "dead" ? 3 : 1},
        ${row.lastError ?? (row.status === "dead" ? "boom" : null)}, ${row.causationId ?? null}::uuid,
        ${row.status === "processed" || row.status === undefined ? new Date() : null})`);
  }
  return ids;
}

async function getJson<T>(url: string) {
  const response = await api.app.inject({ method: "GET", url, headers: admin });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<T>();
}

interface Page {
  events: { id: string; status: string; type: string; aggregateId: string; tenantId: string | null }[];
  next: string | null;
}

/** Every page of a listing, following `next`. */
async function allPages(query: string, limit: number): Promise<{ pages: number; ids: string[] }> {
  const ids: string[] = [];
  let before: string | null = null;
  let pages = 0;
  do {
    const page: Page = await getJson<Page>(`/admin/outbox/api/events?${query}&limit=${limit}${before ? `&before=${before}` : ""}`);
    pages++;
    ids.push(...page.events.map((event) => event.id));
    before = page.next;
  } while (before);
  return { pages, ids };
}

describe("the outbox page's listing", () => {
  it("lists newest first, filtered by status, type, aggregate and tenant, in keyset pages", async () => {
    const tenant = `t-${randomUUID()}`;
    const other = `t-${randomUUID()}`;
    const aggregate = `agg-${randomUUID()}`;
    const ids = await insert([
      { aggregateId: aggregate, tenantId: tenant },
      { aggregateId: aggregate, tenantId: tenant, type: "UserCreated", aggregateType: "user", status: "dead" },
      { aggregateId: `x-${randomUUID()}`, tenantId: other, status: "dead" },
      { aggregateId: aggregate, tenantId: tenant, status: "skipped" },
      { aggregateId: `y-${randomUUID()}`, tenantId: tenant, type: "UserCreated", aggregateType: "user" },
      { aggregateId: aggregate, tenantId: tenant, status: "pending" },
      { aggregateId: `z-${randomUUID()}`, tenantId: tenant },
    ]);
    const newestFirst = (...indexes: number[]) => indexes.map((i) => ids[i]);

    expect(await allPages(`tenantId=${tenant}`, 2)).toEqual({ pages: 3, ids: newestFirst(6, 5, 4, 3, 1, 0) });
    expect((await allPages(`aggregateId=${aggregate}`, 10)).ids).toEqual(newestFirst(5, 3, 1, 0));
    expect((await allPages(`aggregateId=${aggregate}&aggregateType=user`, 10)).ids).toEqual(newestFirst(1));
    expect((await allPages(`tenantId=${tenant}&type=UserCreated`, 1)).ids).toEqual(newestFirst(4, 1));
    expect((await allPages(`tenantId=${tenant}&status=dead`, 1)).ids).toEqual(newestFirst(1));
    expect((await allPages(`aggregateId=${aggregate}&status=processed`, 1)).ids).toEqual(newestFirst(0));

    const dead = await getJson<Page>(`/admin/outbox/api/events?status=dead&tenantId=${other}`);
    expect(dead).toEqual({ next: null, events: [expect.objectContaining({ id: ids[2], status: "dead", tenantId: other, type: "TenantCreated" })] });
    // The pending row is held behind the dead one of its aggregate: it reads pending, not dispatched.
    const held = await getJson<Page>(`/admin/outbox/api/events?aggregateId=${aggregate}&status=pending`);
    expect(held.events.map((e) => e.status)).toEqual(["pending"]);

    const html = await api.app.inject({ method: "GET", url: `/admin/outbox?aggregateId=${aggregate}&status=&type=&limit=2`, headers: admin });
    expect(html.statusCode).toBe(200);
    expect(html.headers["content-type"]).toMatch(/^text\/html/);
    expect([...html.body.matchAll(/data-event-id="([^"]+)"/g)].map((m) => m[1])).toEqual(newestFirst(5, 3));
    expect(html.body).toContain(`before=`);
  });

  it("refuses a bad filter with the field and a wrong password with 401, in HTML and JSON", async () => {
    const bad = await api.app.inject({ method: "GET", url: "/admin/outbox/api/events?status=gone&before=abc", headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toMatch(/status/);
    const badPage = await api.app.inject({ method: "GET", url: "/admin/outbox?status=gone", headers: admin });
    expect(badPage.statusCode).toBe(400);
    expect(badPage.headers["content-type"]).toMatch(/^text\/html/);
    for (const url of ["/admin/outbox", "/admin/outbox/api/events", "/admin/outbox/held", `/admin/outbox/events/${randomUUID()}`]) {
      const anonymous = await api.app.inject({ method: "GET", url });
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.headers["www-authenticate"], url).toMatch(/^Basic realm="outbox admin"/);
    }
    const wrong = await api.app.inject({ method: "POST", url: `/admin/outbox/events/${randomUUID()}/retry`, headers: { authorization: `Basic ${Buffer.from("admin:nope").toString("base64")}` } });
    expect(wrong.statusCode).toBe(401);
  });
});

describe("one event on the outbox page", () => {
  it("shows the payload, the last error and the events it caused, with tenant data inert", async () => {
    const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
    const [cause] = await insert([{ aggregateId: `a-${randomUUID()}`, status: "dead", payload: { name: hostile }, lastError: `failed on ${hostile}` }]);
    const caused = await insert([
      { aggregateId: `b-${randomUUID()}`, causationId: cause },
      { aggregateId: `c-${randomUUID()}`, causationId: cause, type: "UserCreated" },
      { aggregateId: `d-${randomUUID()}` },
    ]);

    const page = await api.app.inject({ method: "GET", url: `/admin/outbox/events/${cause}`, headers: admin });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-security-policy"]).toMatch(/default-src 'none'/);
    expect(page.body).not.toContain("<script");
    expect(page.body).not.toContain("<img");
    expect(page.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page.body).toContain(`failed on &lt;script&gt;`);
    for (const id of caused.slice(0, 2)) expect(page.body).toContain(`data-event-id="${id}"`);
    expect(page.body).not.toContain(`data-event-id="${caused[2]}"`);
    expect(page.body).toMatch(/<form class="inline" method="post" action="\/admin\/outbox\/events\/[^"]+\/retry">/);

    const json = await getJson<{ event: { payload: unknown; lastError: string; heldBy: unknown }; caused: Page }>(`/admin/outbox/api/events/${cause}`);
    expect(json.event).toMatchObject({ payload: { name: hostile }, lastError: `failed on ${hostile}`, heldBy: null });
    expect(json.caused.events.map((e) => e.id)).toEqual([caused[1], caused[0]]);

    const missing = await api.app.inject({ method: "GET", url: `/admin/outbox/api/events/${randomUUID()}`, headers: admin });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: "EVENT_NOT_FOUND" });
    expect((await api.app.inject({ method: "GET", url: `/admin/outbox/events/${randomUUID()}`, headers: admin })).statusCode).toBe(404);
  });
});

describe("held aggregates and the actions", () => {
  const form = { ...admin, "content-type": "application/x-www-form-urlencoded", origin: "http://localhost:80", host: "localhost:80" };

  it("lists what holds each aggregate; retry and skip from the page change the row and queue the next job", async () => {
    const aggregate = `held-${randomUUID()}`;
    const [dead, next] = await insert([
      { aggregateId: aggregate, status: "dead" },
      { aggregateId: aggregate, status: "pending" },
    ]);
    const held = await getJson<{ aggregates: { aggregateId: string; deadId: string; heldEvents: number }[] }>("/admin/outbox/api/held");
    expect(held.aggregates).toContainEqual(expect.objectContaining({ aggregateId: aggregate, deadId: dead, heldEvents: 1 }));
    const pendingJson = await getJson<{ event: { heldBy: unknown } }>(`/admin/outbox/api/events/${next}`);
    expect(pendingJson.event.heldBy).toEqual({ id: dead, type: "TenantCreated", status: "dead" });
    const heldPage = await api.app.inject({ method: "GET", url: "/admin/outbox/held", headers: admin });
    expect(heldPage.body).toContain(dead);

    const skipped = await api.app.inject({ method: "POST", url: `/admin/outbox/events/${dead}/skip`, headers: form, payload: "back=held" });
    expect(skipped.statusCode).toBe(303);
    expect(skipped.headers.location).toBe("/admin/outbox/held?notice=skipped");
    expect((await api.prisma.eventOutbox.findUniqueOrThrow({ where: { id: dead! } })).status).toBe("skipped");
    expect(await api.queues!.events.getJob(next!)).toBeDefined();

    const again = await api.app.inject({ method: "POST", url: `/admin/outbox/events/${dead}/skip`, headers: form, payload: "" });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain("is skipped, not dead");

    const [retried] = await insert([{ aggregateId: `r-${randomUUID()}`, status: "dead" }]);
    const retry = await api.app.inject({ method: "POST", url: `/admin/outbox/events/${retried}/retry`, headers: form, payload: "" });
    expect(retry.statusCode).toBe(303);
    expect(retry.headers.location).toBe(`/admin/outbox/events/${retried}?notice=retried`);
    expect(await api.prisma.eventOutbox.findUniqueOrThrow({ where: { id: retried! } })).toMatchObject({ status: "pending", attempts: 0 });
    expect(await api.queues!.events.getJob(retried!)).toBeDefined();
  });

  it("links a pending event to the batch job it travels in, and to its own job once it has one", async () => {
    const ids = await insert([{ aggregateId: `e-${randomUUID()}`, status: "pending" }, { aggregateId: `f-${randomUUID()}`, status: "pending" }]);
    const rows = await api.sql.query<OutboxEvent>(sql`SELECT * FROM event_outbox WHERE id = ANY(${ids}::uuid[]) ORDER BY sequence`);
    await enqueueEvents(api.queues!, rows, { eventsPerJob: 2 });
    const [batch] = await api.queues!.events.getJobs(["prioritized", "wait"]);
    expect(batch?.name).toBe("batch");

    const page = await api.app.inject({ method: "GET", url: `/admin/outbox/events/${ids[0]}`, headers: admin });
    expect(page.body).toContain(`<a href="/admin/queues/queue/events/${batch!.id}">the batch job it travels in in Bull Board</a>`);
    await batch!.remove();
    await enqueueEvents(api.queues!, rows.slice(0, 1), { eventsPerJob: 1 });
    const own = await api.app.inject({ method: "GET", url: `/admin/outbox/events/${ids[0]}`, headers: admin });
    expect(own.body).toContain(`<a href="/admin/queues/queue/events/${ids[0]}">its job in Bull Board</a>`);
  });

  it("refuses a form posted from another site, and changes nothing", async () => {
    const [dead] = await insert([{ aggregateId: `x-${randomUUID()}`, status: "dead" }]);
    for (const headers of [
      { ...form, origin: "https://evil.example" },
      { ...form, "sec-fetch-site": "cross-site" },
    ]) {
      const response = await api.app.inject({ method: "POST", url: `/admin/outbox/events/${dead}/retry`, headers, payload: "" });
      expect(response.statusCode).toBe(403);
    }
    expect((await api.prisma.eventOutbox.findUniqueOrThrow({ where: { id: dead! } })).status).toBe("dead");
  });

  it("replays processed events of a type from the page, as copies caused by the originals", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    // ProductCreated: no other test here writes one (a replay refuses a window with an invalid payload).
    const payload = { productId: "p1", tenantId: "t1", name: "Lamp", sellerId: "s1", categoryId: "c1", price: 1250, createdAt: new Date().toISOString() };
    const [original] = await insert([{ aggregateId: `p-${randomUUID()}`, aggregateType: "product", type: "ProductCreated", payload }]);
    const until = new Date(Date.now() + 1000).toISOString();
    const body = new URLSearchParams({ type: "ProductCreated", since, until }).toString();
    const replay = await api.app.inject({ method: "POST", url: "/admin/outbox/replay", headers: form, payload: body });
    expect(replay.statusCode, replay.body).toBe(200);
    const copy = await api.prisma.eventOutbox.findFirstOrThrow({ where: { causationId: original! } });
    expect(copy).toMatchObject({ eventType: "ProductCreated", status: "pending" });
    expect(replay.body).toContain(copy.id);

    const invalid = await api.app.inject({ method: "POST", url: "/admin/outbox/replay", headers: form, payload: "type=ProductCreated&since=yesterday" });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain("since");
  });
});
