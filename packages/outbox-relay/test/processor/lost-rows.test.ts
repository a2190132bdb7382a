import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEvents } from "../../src/events/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { sql } from "../../src/sql/index.ts";
import { useTestDatabase } from "@outbox/testing";
import { batch, external, runBatch, type EventJob } from "../../src/processor/index.ts";
import { runExternal } from "../../src/processor/run-external.ts";

const database = useTestDatabase();
const catalog = defineEvents({
  TenantCreated: { schema: z.object({ tenantId: z.string() }).loose(), aggregate: (p) => ({ type: "tenant", id: p.tenantId }), priority: 1 },
});

interface Line {
  level: number;
  msg: string;
  eventId?: string;
  eventIds?: string[];
}

function capturingLogger() {
  const lines: Line[] = [];
  const logger = createLogger({ level: "info", destination: { write: (text: string) => void lines.push(JSON.parse(text) as Line) } });
  return { logger, warnings: () => lines.filter((line) => line.level === 40) };
}

async function pendingJob(attemptsMade = 0): Promise<EventJob> {
  const id = randomUUID();
  const payload = { tenantId: id, name: "Acme", slug: `s-${id.slice(0, 8)}`, createdAt: new Date().toISOString() };
  await database.sql.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
    VALUES (${id}::uuid, 'TenantCreated', 'tenant', ${id}, ${JSON.stringify(payload)}::jsonb)`);
  const data = { type: "TenantCreated", payload, aggregateType: "tenant", aggregateId: id, tenantId: id, createdAt: new Date().toISOString(), previousAttempts: 0 };
  return { id, attemptsMade, maxAttempts: 3, data };
}

/** Another run or an admin finishing the row behind this run's back. */
const finish = (id: string, status: "processed" | "skipped") =>
  database.sql.execute(sql`UPDATE event_outbox SET status = ${status}, processed_at = now() WHERE id = ${id}::uuid`);

const statusOf = async (id: string) => (await database.sql.query<{ status: string }>(sql`SELECT status FROM event_outbox WHERE id = ${id}::uuid`))[0]?.status;

describe("a run that loses its row", () => {
  it("a batch: the event another run processed is skipped, logged at warn by id, and its handler never runs", async () => {
    const { logger, warnings } = capturingLogger();
    const [fresh, done] = [await pendingJob(), await pendingJob()];
    await finish(done.id, "processed");
    const seen: string[] = [];
    const handlers = { TenantCreated: batch(async ({ events }) => void seen.push(...events.map((event) => event.id))) };
    const outcomes = await runBatch({ db: database.sql, catalog, handlers, logger }, [fresh, done]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(["handled", "skipped"]);
    expect(seen).toEqual([fresh.id]);
    expect(warnings()).toEqual([expect.objectContaining({ eventIds: [done.id] })]);
  });

  it("an external call whose row an admin skipped meanwhile: not marked processed, skipped, logged at warn", async () => {
    const { logger, warnings } = capturingLogger();
    const job = await pendingJob();
    const handler = external(async ({ event }) => void (await finish(event.id, "skipped")));
    expect(await runExternal({ db: database.sql, catalog, logger }, handler, job)).toEqual({ kind: "skipped" });
    expect(await statusOf(job.id)).toBe("skipped");
    expect(warnings()).toEqual([expect.objectContaining({ eventId: job.id })]);
  });

  it("an external call that fails for good after another run processed the row: skipped, not dead, the row stays processed", async () => {
    const { logger, warnings } = capturingLogger();
    const job = await pendingJob(2);
    const handler = external(async ({ event }) => {
      await finish(event.id, "processed");
      throw new Error("receiver down");
    });
    expect(await runExternal({ db: database.sql, catalog, logger }, handler, job)).toEqual({ kind: "skipped" });
    expect(await statusOf(job.id)).toBe("processed");
    expect(warnings()).toEqual([expect.objectContaining({ eventId: job.id })]);
  });
});
