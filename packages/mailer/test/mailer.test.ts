import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "outbox-relay/logger";
import { useTestDatabase, waitFor } from "@outbox/testing";
import { startMailer } from "../src/index.ts";
import { startSmtpServer } from "./smtp-server.ts";

const database = useTestDatabase();

const silent = createLogger({ level: "silent" });

async function queue(recipients: string[], template = "order_confirmation"): Promise<string[]> {
  const ids: string[] = [];
  for (const recipient of recipients) {
    const row = await database.prisma.email.create({ data: { recipient, template, data: { orderNumber: "ORD-000001", totalAmount: 1250, currency: "USD" } } });
    ids.push(row.id);
  }
  return ids;
}

async function settled(ids: string[], status: string) {
  return waitFor(async () => (await database.prisma.email.count({ where: { id: { in: ids }, status } })) === ids.length, { message: `emails ${status}` });
}

describe("mailer", () => {
  it("sends pending emails over SMTP in batches and marks them sent", async () => {
    const smtp = await startSmtpServer();
    const ids = await queue(Array.from({ length: 12 }, (_, i) => `buyer${i}@example.com`));
    const mailer = startMailer({ db: database.sql, logger: silent, smtpUrl: smtp.url, intervalMs: 50, batchSize: 5, sendConcurrency: 1 });
    try {
      await settled(ids, "sent");
    } finally {
      await mailer.stop();
      await smtp.close();
    }
    expect(smtp.received).toHaveLength(12);
    expect(smtp.received[0]!.to).toEqual(["<buyer0@example.com>"]);
    expect(smtp.received[0]!.data).toContain("Subject: Order ORD-000001 confirmed");
    const rows = await database.prisma.email.findMany({ where: { id: { in: ids } } });
    expect(rows.every((row) => row.attempts === 1 && row.sentAt !== null && row.lastError === null)).toBe(true);
  });

  it("counts refused sends and marks the email failed after the last attempt", async () => {
    const smtp = await startSmtpServer();
    const [refused] = await queue(["nobody@reject.example"]);
    const mailer = startMailer({ db: database.sql, logger: silent, smtpUrl: smtp.url, intervalMs: 20, maxAttempts: 2 });
    try {
      await settled([refused!], "failed");
    } finally {
      await mailer.stop();
      await smtp.close();
    }
    const row = await database.prisma.email.findUniqueOrThrow({ where: { id: refused! } });
    expect(row.attempts).toBe(2);
    expect(row.lastError).toMatch(/550|mailbox unavailable|Recipient/i);
  });

  it("writes one log line per email without SMTP_URL, with no body and no secrets", async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ level: "info", destination });
    const ids = await queue(["log@example.com"], "welcome");
    const mailer = startMailer({ db: database.sql, logger, intervalMs: 20 });
    try {
      await settled(ids, "sent");
    } finally {
      await mailer.stop();
    }
    const logged = lines.filter((line) => line.emailId === ids[0]);
    expect(logged).toMatchObject([{ to: "log@example.com", template: "welcome", subject: "Welcome", transport: "log" }]);
    expect(JSON.stringify(logged)).not.toContain("account is ready");
  });

  it("stops promptly while idle", async () => {
    const mailer = startMailer({ db: database.sql, logger: silent, intervalMs: 60_000 });
    const started = Date.now();
    await mailer.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
