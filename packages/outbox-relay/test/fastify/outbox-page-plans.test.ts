import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "@outbox/testing";
import { heldAggregates, listEvents, type EventFilters } from "../../src/fastify/outbox-page/queries.ts";
import type { Queryable, Statement } from "../../src/sql/index.ts";

const database = useTestDatabase();

/** The statement a query function sends, without running it. */
async function statementOf(run: (db: Queryable) => Promise<unknown>): Promise<Statement> {
  let captured: Statement | undefined;
  const recorder: Queryable = {
    query: async <Row>(statement: Statement) => {
      captured = statement;
      return [] as Row[];
    },
    execute: async () => 0,
  };
  await run(recorder);
  return captured!;
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function planOf(statement: Statement): Promise<PlanNode[]> {
  const { rows } = await database.sql.pool.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
  return nodes(rows[0]!["QUERY PLAN"][0].Plan);
}

// A table of 200,000 events shaped like a busy outbox: most processed, a few pending, dead and
// skipped; one large tenant; a rare type; five events per aggregate; follow-ups with a cause.
beforeAll(async () => {
  await database.sql.pool.query(`
    ALTER TABLE event_outbox DISABLE TRIGGER event_outbox_notify_insert;
    INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, tenant_id, payload, status, attempts, processed_at, last_error, causation_id)
    SELECT CASE WHEN g % 50000 = 5 THEN 'AccountRenamed' WHEN g % 5 = 0 THEN 'AccountOpened' WHEN g % 5 = 1 THEN 'AccountClosed' ELSE 'ReceiptSent' END,
      'account', 'account-' || (g / 5), 'tenant-' || (CASE WHEN g % 3 = 0 THEN 0 ELSE g % 50 END), jsonb_build_object('n', g),
      CASE WHEN g % 2000 = 7 THEN 'dead' WHEN g % 1000 = 3 THEN 'skipped' WHEN g > 198000 THEN 'pending' ELSE 'processed' END,
      1, now(), CASE WHEN g % 2000 = 7 THEN 'boom' END, CASE WHEN g % 5 > 1 THEN gen_random_uuid() END
    FROM generate_series(1, 200000) g;
    ALTER TABLE event_outbox ENABLE TRIGGER event_outbox_notify_insert;
    ANALYZE event_outbox;`);
}, 60_000);

describe("the outbox page's statements read indexes on a large table", () => {
  const cases: [string, EventFilters, string | undefined, string][] = [
    ["no filter", {}, undefined, "event_outbox_sequence_idx"],
    ["no filter, a later page", {}, "100000", "event_outbox_sequence_idx"],
    ["an aggregate", { aggregateId: "account-1234" }, undefined, "event_outbox_aggregate_idx"],
    ["an aggregate of a type", { aggregateType: "account", aggregateId: "account-1234" }, undefined, "event_outbox_aggregate"],
    ["a tenant", { tenantId: "tenant-7" }, "150000", "event_outbox_tenant_idx"],
    ["a rare type", { type: "AccountRenamed" }, undefined, "event_outbox_type_idx"],
    ["dead events", { status: "dead" }, undefined, "event_outbox_dead_idx"],
    ["skipped events", { status: "skipped" }, "150000", "event_outbox_skipped_idx"],
    ["processed events", { status: "processed" }, "150000", "event_outbox_sequence_idx"],
    ["dead events of a tenant", { status: "dead", tenantId: "tenant-7" }, undefined, "event_outbox_"],
    ["the events one caused", { causedBy: "00000000-0000-4000-8000-000000000000" }, undefined, "event_outbox_caused_by_idx"],
  ];
  it.each(cases)("%s", async (_name, filters, before, index) => {
    const plan = await planOf(await statementOf((db) => listEvents(db, filters, { before, limit: 50 })));
    const outbox = plan.filter((node) => node["Relation Name"] === "event_outbox" || node["Index Name"]?.startsWith("event_outbox"));
    expect(outbox.map((node) => node["Node Type"])).not.toContain("Seq Scan");
    expect(outbox.map((node) => node["Index Name"] ?? "").some((name) => name.startsWith(index))).toBe(true);
  });

  it("held aggregates walk the dead events' index", async () => {
    const plan = await planOf(await statementOf((db) => heldAggregates(db, 200)));
    expect(plan.map((node) => node["Node Type"])).not.toContain("Seq Scan");
    expect(plan.map((node) => node["Index Name"])).toContain("event_outbox_dead_idx");
  });

  it("a page is right at the end of the table", async () => {
    const first = await listEvents(database.sql, { tenantId: "tenant-7" }, { limit: 3 });
    expect(first.events).toHaveLength(3);
    const sequences = first.events.map((event) => BigInt(event.sequence));
    expect([...sequences].sort((a, b) => (a > b ? -1 : 1))).toEqual(sequences);
    const second = await listEvents(database.sql, { tenantId: "tenant-7" }, { before: first.next!, limit: 3 });
    expect(BigInt(second.events[0]!.sequence) < sequences.at(-1)!).toBe(true);
  });
});
