import { describe, expect, it } from "vitest";
import { isRedisConnectionError, isSocketError } from "../../src/queues/index.ts";

// A Redis killed with commands in flight resets its clients' sockets: the read error names no port.
const readReset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", errno: -104, syscall: "read" });

describe("socket errors", () => {
  it("a reset of an open socket is a socket error, but not by itself Redis' (a webhook receiver's reset looks the same)", () => {
    expect(isSocketError(readReset)).toBe(true);
    expect(isRedisConnectionError(readReset, [6379])).toBe(false);
    expect(isRedisConnectionError(new Error("fetch failed", { cause: readReset }), [6379])).toBe(false);
  });

  it("a refused connect on Redis' port is Redis'; an application error is neither", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED", port: 6379, syscall: "connect" });
    expect(isRedisConnectionError(refused, [6379])).toBe(true);
    expect(isSocketError(new Error("WRONGTYPE Operation against a key holding the wrong kind of value"))).toBe(false);
  });
});
