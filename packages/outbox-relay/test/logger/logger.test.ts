import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { addLogFilter, createLogger, maskUrlCredentials, safeUrl, wantsPretty } from "../../src/logger/index.ts";

interface Line {
  [field: string]: unknown;
  msg?: string;
  err?: Record<string, unknown>;
  error?: Record<string, unknown>;
}

function capture(options: { pretty?: boolean } = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ destination, ...options }), text: () => lines.join(""), json: () => lines.join("").trim().split("\n").map((line) => JSON.parse(line) as Line) };
}

describe("createLogger", () => {
  it("writes pino JSON", () => {
    const { logger, text } = capture();
    logger.info({ eventId: "e1" }, "handled");
    expect(JSON.parse(text())).toMatchObject({ msg: "handled", eventId: "e1", level: 30 });
  });

  it("never writes passwords inside URLs, in messages, fields or errors", () => {
    const { logger, text } = capture();
    logger.info({ url: "postgresql://app:hunter2pass@db:5432/outbox" }, "connecting to redis://:r3dispass@cache:6379");
    logger.error({ err: new Error("connect failed for postgresql://app:hunter2pass@db/x") }, "failed");
    const out = text();
    expect(out).not.toContain("hunter2pass");
    expect(out).not.toContain("r3dispass");
    expect(out).toContain("postgresql://app:***@db:5432/outbox");
  });

  it("redacts secrets, keys and authorization headers", () => {
    const { logger, text } = capture();
    logger.info({
      ENCRYPTION_KEY: "k".repeat(40),
      endpoint: { url: "https://example.com/hook", secret: "whsec_c2VjcmV0c2VjcmV0" },
      req: { headers: { authorization: "Basic YWRtaW46cGFzcw==" } },
      headers: { "webhook-signature": "v1,abc=" },
      password: "pw-123456",
    });
    const out = text();
    for (const secret of ["k".repeat(40), "whsec_c2VjcmV0c2VjcmV0", "YWRtaW46cGFzcw==", "v1,abc=", "pw-123456"]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain("https://example.com/hook");
  });

  it("masks credentials in a plain string", () => {
    expect(maskUrlCredentials("smtp://user:pa55@mail:25 and redis://cache:6379")).toBe(
      "smtp://user:***@mail:25 and redis://cache:6379",
    );
  });

  it("keeps dates as dates", () => {
    const { logger, json } = capture();
    logger.info({ at: new Date("2026-03-14T10:00:00Z") }, "dated");
    expect(json()[0]!.at).toBe("2026-03-14T10:00:00.000Z");
  });
});

describe("errors in log lines", () => {
  it("keep message, stack, code and cause, under err or error, or as the only argument", () => {
    const { logger, json } = capture();
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED", port: 5432 });
    const error = Object.assign(new Error("relay step failed", { cause }), { code: "RELAY_FAILED" });
    logger.error({ err: error }, "outbox relay failed");
    logger.warn({ error }, "under error");
    logger.error(error);
    const [first, second, third] = json();
    for (const line of [first, { err: second?.error }, third]) {
      expect(line!.err).toMatchObject({
        type: "Error",
        message: "relay step failed",
        code: "RELAY_FAILED",
        stack: expect.stringContaining("relay step failed") as unknown,
        cause: { type: "Error", message: "connect ECONNREFUSED 127.0.0.1:5432", code: "ECONNREFUSED", port: 5432, stack: expect.any(String) as unknown },
      });
    }
    expect(third!.msg).toBe("relay step failed");
  });

  it("leave out the objects libraries hang on errors (pg's failed client with its connection settings)", () => {
    const { logger, text, json } = capture();
    class Client {
      connectionParameters = { user: "app", password: "hunter2pass", host: "db" };
      socket = { bytesRead: 123 };
    }
    const error = Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
      severity: "FATAL",
      client: new Client(),
      detail: { hint: "plain objects stay" },
    });
    logger.warn({ err: error }, "an idle Postgres connection failed");
    expect(text()).not.toContain("hunter2pass");
    expect(text()).not.toContain("bytesRead");
    expect(json()[0]!.err).toMatchObject({ message: "terminating connection due to administrator command", code: "57P01", severity: "FATAL", detail: { hint: "plain objects stay" } });
    expect(json()[0]!.err?.client).toBeUndefined();
  });

  it("give an AggregateError (localhost tried on IPv6 and IPv4) a message and a code", () => {
    const { logger, json } = capture();
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}:6379`), { code: "ECONNREFUSED" });
    logger.error({ err: new AggregateError([refused("::1"), refused("127.0.0.1")]) }, "redis");
    expect(json()[0]!.err).toMatchObject({
      type: "AggregateError",
      message: "connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379",
      code: "ECONNREFUSED",
      errors: [{ code: "ECONNREFUSED" }, { code: "ECONNREFUSED" }],
    });
  });
});

describe("requests in log lines", () => {
  it("carry method, URL without query secrets, client address and status", () => {
    const { logger, json } = capture();
    const request = { method: "GET", url: "/api/orders/1?token=abc123&limit=5&api_key=k9", ip: "10.0.0.7", headers: { authorization: "Bearer xyz" } };
    logger.info({ req: request, res: { statusCode: 404, request }, responseTime: 3.2 }, "request completed");
    const [line] = json();
    expect(line).toMatchObject({
      req: { method: "GET", url: "/api/orders/1?token=[redacted]&limit=5&api_key=[redacted]", remoteAddress: "10.0.0.7" },
      res: { statusCode: 404 },
      responseTime: 3.2,
    });
    expect(JSON.stringify(line)).not.toContain("abc123");
  });

  it("safeUrl leaves plain URLs alone", () => {
    expect(safeUrl("/readyz")).toBe("/readyz");
    expect(safeUrl("/admin/api/dlq?type=OrderCreated&limit=5")).toBe("/admin/api/dlq?type=OrderCreated&limit=5");
    expect(safeUrl("/x?password=p&signature=s&next=/y")).toBe("/x?password=[redacted]&signature=[redacted]&next=/y");
  });
});

describe("pretty lines", () => {
  it("are chosen for a terminal outside production, JSON otherwise", () => {
    expect(wantsPretty({ environment: "development", isTerminal: true })).toBe(true);
    expect(wantsPretty({ environment: "test", isTerminal: true })).toBe(true);
    expect(wantsPretty({ environment: "production", isTerminal: true })).toBe(false);
    expect(wantsPretty({ environment: "development", isTerminal: false })).toBe(false);
    expect(wantsPretty({ environment: undefined, isTerminal: true })).toBe(false);
  });

  it("read as text with the error's stack, and still hide secrets", () => {
    const { logger, text } = capture({ pretty: true });
    logger.error({ err: new Error("boom at redis://:r3dispass@cache:6379") }, "relay failed");
    const out = text();
    expect(out).toMatch(/ERROR.*relay failed/);
    expect(out).toContain("boom at redis://:***@cache:6379");
    expect(out).toMatch(/at .*logger\.test\.ts/);
    expect(() => JSON.parse(out) as unknown).toThrow();
  });

  it.skipIf(!existsSync("/usr/bin/script"))("are what a process writes to a real terminal, and JSON in production", () => {
    const entry = path.resolve(import.meta.dirname, "../../src/logger/index.ts");
    const run = (environment: string) =>
      execFileSync("script", ["-qec", `node --import tsx --input-type=module -e 'const { createLogger } = await import(${JSON.stringify(entry)}); createLogger({ environment: "${environment}" }).info({ n: 1 }, "hello")'`, "/dev/null"], {
        encoding: "utf8",
        cwd: path.resolve(import.meta.dirname, ".."),
      });
    expect(run("development")).toMatch(/INFO.*hello/);
    expect(JSON.parse(run("production").trim())).toMatchObject({ msg: "hello", n: 1 });
  });
});

describe("addLogFilter", () => {
  it("drops the lines it matches, on the logger and its children, until removed", () => {
    const { logger, json } = capture();
    const child = logger.child({ component: "relay" });
    const remove = addLogFilter(logger, (fields, level) => level >= 40 && (fields.err as { code?: string } | undefined)?.code === "ECONNREFUSED");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    child.error({ err: refused }, "dropped");
    child.error(refused);
    child.info({ err: refused }, "kept: info");
    child.error({ err: new Error("other") }, "kept: another error");
    remove();
    child.error({ err: refused }, "kept: filter removed");
    expect(json().map((line) => line.msg)).toEqual(["kept: info", "kept: another error", "kept: filter removed"]);
  });
});
