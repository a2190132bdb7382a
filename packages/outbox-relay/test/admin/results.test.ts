import { describe, expect, it } from "vitest";
import { deadListResult, replayResult, retryResult, skipResult } from "../../src/admin/index.ts";

describe("the admin operations' JSON", () => {
  it("lists dead events with ISO times and their age", () => {
    const createdAt = new Date("2026-03-14T10:00:00Z");
    const event = { id: "e1", eventType: "OrderCreated", aggregateType: "order", aggregateId: "o1", attempts: 3, lastError: "boom", createdAt };
    expect(deadListResult([event], createdAt.getTime() + 5000)).toEqual({
      events: [{ id: "e1", eventType: "OrderCreated", aggregateType: "order", aggregateId: "o1", attempts: 3, lastError: "boom", createdAt: "2026-03-14T10:00:00.000Z", ageMs: 5000 }],
    });
  });

  it("answers retry and skip with lists of ids, one event or many", () => {
    expect(retryResult(["a"])).toEqual({ retried: ["a"] });
    expect(retryResult(["a", "b"])).toEqual({ retried: ["a", "b"] });
    expect(skipResult(["a"])).toEqual({ skipped: ["a"] });
  });

  it("answers a replay with its window and the copies", () => {
    expect(replayResult("TenantCreated", new Date("2026-03-14T00:00:00Z"), new Date("2026-03-15T00:00:00Z"), [{ originalId: "a", copyId: "b" }])).toEqual({
      type: "TenantCreated",
      since: "2026-03-14T00:00:00.000Z",
      until: "2026-03-15T00:00:00.000Z",
      replayed: [{ originalId: "a", copyId: "b" }],
    });
  });
});
