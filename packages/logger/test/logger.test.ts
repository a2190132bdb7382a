import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, maskUrlCredentials } from "../src/index.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ destination }), text: () => lines.join("") };
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
});
