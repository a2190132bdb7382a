import { describe, expect, it } from "vitest";
import { backoffStrategy, eventBackoffType, jobOptions, retryAfterOf, retryDelayMs } from "../../src/queues/index.ts";
import { testEvents } from "@outbox/testing";

describe("the event jobs' backoff", () => {
  const schedule = { firstDelayMs: 5000, maxAttempts: 5 };

  it("is exponential without a hint: 5 s, 10 s, 20 s, 40 s for a type of five attempts from 5 s (ReceiptSent)", () => {
    expect([1, 2, 3, 4].map((failedRuns) => retryDelayMs({ ...schedule, failedRuns, retryAfterMs: null }))).toEqual([5000, 10_000, 20_000, 40_000]);
  });

  it("waits at least a Retry-After hint, up to the schedule's longest delay, never less than the schedule's own", () => {
    expect(retryDelayMs({ ...schedule, failedRuns: 1, retryAfterMs: 12_000 })).toBe(12_000);
    expect(retryDelayMs({ ...schedule, failedRuns: 1, retryAfterMs: 3_600_000 })).toBe(40_000);
    expect(retryDelayMs({ ...schedule, failedRuns: 3, retryAfterMs: 1000 })).toBe(20_000);
    expect(retryDelayMs({ ...schedule, failedRuns: 1, retryAfterMs: 5000.2 })).toBe(5001);
  });

  it("reads the hint from the error BullMQ passes and the schedule from the job's options", () => {
    const job = { opts: jobOptions("00000000-0000-4000-8000-000000000001", testEvents.policyOf("ReceiptSent")) } as Parameters<typeof backoffStrategy>[3];
    expect(job!.opts.backoff).toEqual({ type: eventBackoffType, delay: 5000 });
    const hinted = Object.assign(new Error("429"), { retryAfterMs: 30_000 });
    expect(backoffStrategy(1, eventBackoffType, hinted, job)).toBe(30_000);
    expect(backoffStrategy(2, eventBackoffType, new Error("500"), job)).toBe(10_000);
    expect(retryAfterOf({ retryAfterMs: "30" })).toBeNull();
    expect(retryAfterOf({ retryAfterMs: Number.NaN })).toBeNull();
    expect(retryAfterOf(undefined)).toBeNull();
  });
});
