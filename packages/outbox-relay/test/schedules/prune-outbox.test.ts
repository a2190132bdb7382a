import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { markProcessed } from "../../src/outbox/index.ts";
import { useTestDatabase } from "@outbox/testing";
import { pruneOutbox } from "../../src/schedules/index.ts";

const database = useTestDatabase();

describe("pruneOutbox", () => {
  it("deletes only processed and skipped rows older than the cutoff, in batches; a late job of a pruned row does nothing", async () => {
    await database.prisma.eventOutbox.deleteMany();
    const now = Date.now();
    const old = new Date(now - 8 * 24 * 3600_000);
    const recent = new Date(now - 3600_000);
    const row = (status: string, processedAt: Date | null) => ({
      id: randomUUID(),
      eventType: "AccountOpened",
      aggregateType: "account",
      aggregateId: randomUUID(),
      payload: {},
      status,
      processedAt,
      createdAt: processedAt ?? old,
    });
    const oldFinished = [...Array.from({ length: 5 }, () => row("processed", old)), row("skipped", old)];
    const kept = [row("processed", recent), row("skipped", recent), row("pending", null), row("dispatched", null), row("dead", null)];
    await database.prisma.eventOutbox.createMany({ data: [...oldFinished, ...kept] });

    const cutoff = new Date(now - 7 * 24 * 3600_000);
    expect(await pruneOutbox(database.sql, cutoff, { batchSize: 2 })).toBe(6);
    expect(await pruneOutbox(database.sql, cutoff, { batchSize: 2 })).toBe(0);

    const left = await database.prisma.eventOutbox.findMany({ select: { id: true } });
    expect(left.map((r) => r.id).sort()).toEqual(kept.map((r) => r.id).sort());
    // A job that outlived its pruned row finds nothing to mark, so its effects cannot run again.
    const gone = oldFinished.map((r) => r.id);
    expect(await database.sql.transaction((tx) => markProcessed(tx, gone))).toEqual({ changed: [], lost: gone });
  });
});
