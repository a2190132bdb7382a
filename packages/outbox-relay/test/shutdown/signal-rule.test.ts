import { describe, expect, it } from "vitest";
import { signalRule } from "../../src/shutdown/index.ts";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("signalRule", () => {
  it("reads a signal and its copy within the window (Ctrl-C, and pnpm forwarding it) as one graceful stop", () => {
    const time = clock();
    const next = signalRule({ now: time.now });
    expect(next()).toBe("graceful");
    time.advance(5);
    expect(next()).toBe("repeated");
  });

  it("forces the stop on a third signal, however soon (Ctrl-C pressed twice)", () => {
    const time = clock();
    const next = signalRule({ now: time.now });
    expect([next(), next(), next(), next()]).toEqual(["graceful", "repeated", "force", "force"]);
  });

  it("forces the stop on a second signal later than the window", () => {
    const time = clock();
    const next = signalRule({ now: time.now, repeatWindowMs: 2000 });
    expect(next()).toBe("graceful");
    time.advance(2001);
    expect(next()).toBe("force");
  });
});
