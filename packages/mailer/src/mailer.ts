import type { Logger, Queryable } from "outbox-relay";
import { claimEmails, settleEmails, type ClaimedEmail, type SendResult, type SettledEmail } from "./claim.ts";
import { sendBatch } from "./send.ts";
import { logTransport, smtpTransport, type EmailTransport } from "./transport.ts";

export interface MailerOptions {
  /** The pool: every statement is autocommit, none is held open across a send. */
  db: Queryable;
  logger: Logger;
  /** SMTP when set; otherwise each email is written to the log. */
  smtpUrl?: string | undefined;
  /** Pause between polls when no email is waiting. */
  intervalMs?: number;
  /** Emails claimed per statement. */
  batchSize?: number;
  /** Sends of one batch in flight at once. */
  sendConcurrency?: number;
  /** Send attempts before an email is marked `failed`. */
  maxAttempts?: number;
  from?: string;
  /** The deadline of one send; past it the send counts as failed. */
  sendTimeoutMs?: number;
  /** How long a claimed batch is this mailer's; past it another mailer sends the emails again. */
  leaseMs?: number;
  transport?: EmailTransport;
}

export interface RunningMailer {
  stop(): Promise<void>;
}

export const mailerDefaults = {
  intervalMs: 2000,
  batchSize: 50,
  sendConcurrency: 10,
  maxAttempts: 5,
  from: "Outbox <no-reply@example.com>",
  sendTimeoutMs: 15_000,
  leaseMs: 120_000,
};

type MailerSettings = typeof mailerDefaults;

/**
 * The lease must outlast the slowest batch (every send taking its whole deadline), or a second
 * mailer would send a batch that is still being sent. Throws naming the settings.
 */
export function validateMailerSettings(settings: MailerSettings): void {
  const rounds = Math.ceil(settings.batchSize / settings.sendConcurrency);
  const slowestBatchMs = rounds * settings.sendTimeoutMs;
  if (settings.leaseMs <= slowestBatchMs) {
    throw new RangeError(
      `leaseMs (${settings.leaseMs}) must be longer than a batch can take: sendTimeoutMs (${settings.sendTimeoutMs}) × ` +
        `ceil(batchSize ${settings.batchSize} / sendConcurrency ${settings.sendConcurrency}) = ${slowestBatchMs} ms`,
    );
  }
}

/**
 * Sends pending email rows. Each batch is claimed in one statement (`sending`, with a lease), sent
 * with no transaction open, then settled in one statement: `sent`, back to `pending` with the
 * error, or `failed` after the last attempt. A mailer that dies mid-batch leaves its rows
 * `sending`; when their lease expires another mailer (or this one, restarted) sends them again:
 * delivery is at least once. Several mailers share the work (SKIP LOCKED claims).
 */
export function startMailer(options: MailerOptions): RunningMailer {
  const settings: MailerSettings = { ...mailerDefaults, ...definedOnly(options) };
  validateMailerSettings(settings);
  const transport = options.transport ?? (options.smtpUrl ? smtpTransport(options.smtpUrl, settings.from, settings.sendTimeoutMs) : logTransport(options.logger.child({ component: "mailer" })));
  const logger = options.logger.child({ component: "mailer", transport: transport.kind });
  let stopping = false;
  let wake: () => void = () => undefined;

  const loop = (async () => {
    while (!stopping) {
      let full = false;
      try {
        // Only a batch sent in full is followed at once: a failing row waits for the interval.
        full = (await runBatch(options.db, transport, logger, settings)) === settings.batchSize;
      } catch (error) {
        logger.error({ err: error }, "email batch failed; trying again after the interval");
      }
      if (!full && !stopping) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settings.intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    async stop() {
      stopping = true;
      wake();
      await loop;
      transport.close();
    },
  };
}

/** Claims, sends and settles one batch. Returns how many emails were sent. */
async function runBatch(db: Queryable, transport: EmailTransport, logger: Logger, settings: MailerSettings): Promise<number> {
  const emails = await claimEmails(db, settings);
  if (emails.length === 0) return 0;
  const results = await sendBatch(transport, emails, { concurrency: settings.sendConcurrency, timeoutMs: settings.sendTimeoutMs });
  const settled = await settleEmails(db, results, settings.maxAttempts);
  report(logger, emails, results, settled);
  return settled.filter((email) => email.status === "sent").length;
}

function report(logger: Logger, emails: ClaimedEmail[], results: SendResult[], settled: SettledEmail[]): void {
  const byId = new Map(settled.map((email) => [email.id, email]));
  results.forEach((result, index) => {
    const email = emails[index]!;
    const row = byId.get(result.id);
    if (!row) {
      logger.warn({ emailId: email.id, template: email.template }, "email's lease expired before its send was settled; another mailer may send it again");
    } else if (result.error !== null) {
      const final = row.status === "failed";
      logger.warn({ emailId: email.id, template: email.template, attempt: row.attempts, final, error: result.error }, "email not sent");
    }
  });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
