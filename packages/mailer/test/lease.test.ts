import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "outbox-relay/logger";
import { Database, sql } from "outbox-relay/sql";
import { useTestDatabase, waitFor } from "@outbox/testing";
import { claimEmails, settleEmails } from "../src/claim.ts";
import { mailerDefaults, startMailer, validateMailerSettings, type EmailTransport, type OutgoingEmail } from "../src/index.ts";

const database = useTestDatabase();
const silent = createLogger({ level: "silent" });
const applicationName = "mailer-under-test";
/** The mailer's own pool, named so that pg_stat_activity tells its connections apart. */
let mailerDb: Database;

beforeAll(() => {
  mailerDb = new Database(database.db.url, { poolSize: 4, applicationName });
});
afterAll(async () => {
  await mailerDb.close();
});

async function queue(count: number): Promise<string[]> {
  const rows = await database.sql.query<{ id: string }>(sql`
    INSERT INTO emails (id, recipient, template, data)
    SELECT gen_random_uuid(), 'buyer' || n || '@example.com', 'welcome', '{"role":"buyer"}'::jsonb FROM generate_series(1, ${count}::int) AS n
    RETURNING id::text`);
  return rows.map((row) => row.id);
}

const emailsOf = (ids: string[]) =>
  database.sql.query<{ id: string; status: string; attempts: number; lease: Date | null }>(sql`
    SELECT id::text, status, attempts, lease_expires_at AS lease FROM emails WHERE id = ANY(${ids}::uuid[]) ORDER BY created_at, id`);

async function allSent(ids: string[]): Promise<boolean> {
  return (await emailsOf(ids)).every((email) => email.status === "sent");
}

/** A transport that records every send; `hold()` makes sends wait until `release()`. */
function recordingTransport() {
  const sent: { email: OutgoingEmail; at: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  const transport: EmailTransport = {
    kind: "log",
    async send(email) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await gate;
        sent.push({ email, at: Date.now() });
      } finally {
        inFlight -= 1;
      }
    },
    close: () => undefined,
  };
  return {
    transport,
    sent,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

describe("the mailer's claim, send and settle", () => {
  it("holds no transaction and no row lock while a send is in flight, and sends at most sendConcurrency at once", async () => {
    const ids = await queue(3);
    const recorder = recordingTransport();
    recorder.hold();
    const mailer = startMailer({ db: mailerDb, logger: silent, transport: recorder.transport, intervalMs: 20, batchSize: 3, sendConcurrency: 2 });
    try {
      await waitFor(() => recorder.inFlight() === 2, { message: "two sends in flight" });
      const [open] = await database.sql.query<{ n: number }>(sql`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = ${applicationName}
          AND (xact_start IS NOT NULL OR state LIKE 'idle in transaction%')`);
      expect(open!.n).toBe(0);
      expect((await emailsOf(ids)).map((email) => email.status)).toEqual(["sending", "sending", "sending"]);
      // Another session changes a row being sent without waiting for any lock.
      const changed = await database.sql.transaction(async (tx) => {
        await tx.run("SET LOCAL lock_timeout = '1s'");
        return tx.execute(sql`UPDATE emails SET data = data || '{"touched":true}'::jsonb WHERE id = ${ids[0]}::uuid`);
      });
      expect(changed).toBe(1);
    } finally {
      recorder.release();
      await waitFor(() => allSent(ids), { message: "the batch to be sent" });
      await mailer.stop();
    }
    expect(recorder.sent).toHaveLength(3);
    expect(recorder.maxInFlight()).toBe(2);
    expect((await emailsOf(ids)).every((email) => email.attempts === 1 && email.lease === null)).toBe(true);
  });

  it("sends again, once, the batch of a mailer that died mid-send, after its lease expires", async () => {
    const ids = await queue(2);
    // A mailer claims the batch and dies before settling it: the rows stay `sending` under its lease.
    const crashed = await claimEmails(mailerDb, { leaseMs: 1500, batchSize: 10 });
    expect(crashed.map((email) => email.id).sort()).toEqual([...ids].sort());
    const leaseEnds = Math.max(...(await emailsOf(ids)).map((email) => email.lease!.getTime()));

    const recorder = recordingTransport();
    const mailer = startMailer({ db: mailerDb, logger: silent, transport: recorder.transport, intervalMs: 50 });
    try {
      await waitFor(() => allSent(ids), { message: "the crashed batch to be sent again" });
    } finally {
      await mailer.stop();
    }
    expect(recorder.sent.map((s) => s.email.id).sort()).toEqual([...ids].sort());
    for (const send of recorder.sent) expect(send.at).toBeGreaterThanOrEqual(leaseEnds - 50);
    expect((await emailsOf(ids)).map((email) => email.attempts)).toEqual([1, 1]);

    // The dead mailer's settle, were it to come late, no longer owns the rows: it changes nothing.
    const late = await settleEmails(mailerDb, crashed.map((email) => ({ id: email.id, lease: email.lease, error: "late" })), 5);
    expect(late).toEqual([]);
    expect((await emailsOf(ids)).map((email) => email.status)).toEqual(["sent", "sent"]);
  });

  it("shares the work between two mailers without sending an email twice", async () => {
    const ids = await queue(40);
    const recorder = recordingTransport();
    const options = { db: mailerDb, logger: silent, transport: recorder.transport, intervalMs: 20, batchSize: 4 };
    const mailers = [startMailer(options), startMailer(options)];
    try {
      await waitFor(() => allSent(ids), { message: "every email sent" });
    } finally {
      await Promise.all(mailers.map((mailer) => mailer.stop()));
    }
    const sentIds = recorder.sent.map((s) => s.email.id);
    expect(sentIds).toHaveLength(40);
    expect(new Set(sentIds).size).toBe(40);
  });

  it("refuses a lease shorter than the slowest batch, naming the settings", () => {
    expect(() => validateMailerSettings({ ...mailerDefaults, leaseMs: 10_000, sendTimeoutMs: 5000, batchSize: 10, sendConcurrency: 5 })).toThrow(
      /leaseMs \(10000\) must be longer than a batch can take: sendTimeoutMs \(5000\)/,
    );
    expect(() => startMailer({ db: mailerDb, logger: silent, leaseMs: 1000 })).toThrow(RangeError);
  });
});
