import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "outbox-relay/logger";
import { admin, startApi, type ApiHarness } from "./helpers.ts";

interface Line {
  [field: string]: unknown;
  msg?: string;
  err?: Record<string, unknown>;
}

const lines: Line[] = [];
let api: ApiHarness;

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().trim().split("\n")) lines.push(JSON.parse(line) as Line);
      done();
    },
  });
  api = await startApi({ logger: createLogger({ level: "info", destination }) });
});
afterAll(async () => {
  await api.close();
});

describe("the API's request log", () => {
  it("writes one line per request with method, URL without query secrets, status and duration", async () => {
    lines.length = 0;
    await api.app.inject({ method: "GET", url: "/api/orders/00000000-0000-4000-8000-000000000000?token=s3cr3t&view=full", headers: { authorization: "Bearer k3y" } });
    const requestLines = lines.filter((line) => line.req || line.res);
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      level: 30,
      msg: "request completed",
      req: { method: "GET", url: "/api/orders/00000000-0000-4000-8000-000000000000?token=[redacted]&view=full" },
      res: { statusCode: 401 },
      durationMs: expect.any(Number) as unknown,
    });
    expect(JSON.stringify(lines)).not.toContain("s3cr3t");
    expect(JSON.stringify(lines)).not.toContain("k3y");
  });

  it("logs a failed request's error with its message and stack", async () => {
    lines.length = 0;
    // A statement that fails inside a route (as the admin: no key lookup first): the event lookup, once its database is gone.
    await api.db.drop();
    expect((await api.app.inject({ method: "GET", url: "/api/events/00000000-0000-4000-8000-000000000000", headers: admin })).statusCode).toBe(500);
    const failed = lines.find((line) => line.msg === "request failed");
    expect(failed?.err).toMatchObject({ type: "DatabaseError", message: expect.stringMatching(/database .* does not exist/) as unknown, code: "3D000", stack: expect.stringContaining("at ") as unknown });
    expect(lines.find((line) => line.msg === "request completed")).toMatchObject({ res: { statusCode: 500 } });
  });
});
