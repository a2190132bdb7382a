import { describe, expect, it } from "vitest";
import { faults, soak } from "../src/soak/soak.ts";

// The short form of `pnpm bench --scenarios soak`: the whole system from its bundles on a Postgres
// and a Redis of its own, under orders, payments, cancels and plain-SQL rows, through each fault once.
describe("soak, short form", () => {
  it("loses nothing, doubles nothing and keeps every aggregate in order through a Redis flush, a kill -9, cut connections and a Postgres restart", async () => {
    const result = await soak({
      minutes: 1.6,
      ordersPerSecond: 15,
      rowsPerSecond: 40,
      faultEverySeconds: 20,
      sampleEverySeconds: 5,
      warmupSeconds: 30,
      retentionMs: 20_000,
    });

    expect(result.faults.map((f) => f.fault)).toEqual([...faults]);
    expect(result.check.problems).toEqual([]);
    expect(result.check).toMatchObject({ lost: 0, doubled: 0, inversions: 0, unfinished: 0, dead: 0, passed: true });
    expect(result.check.orders).toBeGreaterThan(500);
    expect(result.check.users).toBeGreaterThan(1500);
    // A client that follows the API's answers meets no 5xx and no refusal without Retry-After.
    expect(result.surprises).toEqual({ count: 0, examples: [] });
    expect(result.refusals).toMatchObject({ withoutRetryAfter: 0, serverErrors: 0 });
    // Retention prunes processed rows and BullMQ trims finished jobs: neither keeps every event.
    expect(result.bounds.outboxRowsLastQuarterMax).toBeLessThan(result.check.events);
    expect(result.bounds.redisKeysMax).toBeLessThan(result.check.events / 4);
    expect(result.samples.length).toBeGreaterThan(15);
  }, 300_000);
});
