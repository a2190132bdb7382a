import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../src/webhooks/retry-after.ts";

describe("Retry-After", () => {
  const now = new Date("2026-11-29T12:00:00.000Z");

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP-date (IMF-fixdate and the obsolete forms), a past one as 0", () => {
    expect(parseRetryAfter("Sun, 29 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Sunday, 29-Nov-26 12:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Sun Nov 29 12:00:05 2026", now)).not.toBeNull();
    expect(parseRetryAfter("Sun, 29 Nov 2026 11:00:00 GMT", now)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    for (const value of [undefined, null, "", "soon", "-5", "1.5", "2026-11-29T12:00:30Z"]) expect(parseRetryAfter(value, now)).toBeNull();
  });
});
