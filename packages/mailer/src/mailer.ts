import type { PrismaClient, Tx } from "@outbox/db";
import { maskUrlCredentials, type Logger } from "@outbox/logger";
import { renderEmail } from "./templates.ts";
import { logTransport, smtpTransport, type EmailTransport } from "./transport.ts";

export interface MailerOptions {
  prisma: PrismaClient;
  logger: Logger;
  /** SMTP when set; otherwise each email is written to the log. */
  smtpUrl?: string | undefined;
  /** Pause between polls when no email is waiting. */
  intervalMs?: number;
  batchSize?: number;
  /** Send attempts before an email is marked `failed`. */
  maxAttempts?: number;
  from?: string;
  sendTimeoutMs?: number;
  transport?: EmailTransport;
}

export interface RunningMailer {
  stop(): Promise<void>;
}

export const mailerDefaults = { intervalMs: 2000, batchSize: 10, maxAttempts: 5, from: "Outbox <no-reply@example.com>", sendTimeoutMs: 15_000 };

interface ClaimedEmail {
  id: string;
  recipient: string;
  template: string;
  data: Record<string, unknown>;
  attempts: number;
}

/**
 * Sends pending email rows. Each batch is claimed and settled in one transaction: the rows stay
 * locked (FOR UPDATE SKIP LOCKED, so several mailers share the work) while they are sent, and their
 * `sent` / retry / `failed` state commits with the lock's release. A crash mid-batch leaves the rows
 * pending: delivery is at least once.
 */
export function startMailer(options: MailerOptions): RunningMailer {
  const settings = { ...mailerDefaults, ...definedOnly(options) };
  const transport = options.transport ?? (options.smtpUrl ? smtpTransport(options.smtpUrl, settings.from, settings.sendTimeoutMs) : logTransport(options.logger.child({ component: "mailer" })));
  const logger = options.logger.child({ component: "mailer", transport: transport.kind });
  let stopping = false;
  let wake: () => void = () => undefined;

  const loop = (async () => {
    while (!stopping) {
      let full = false;
      try {
        // Only a batch sent in full is followed at once: a failing row waits for the interval.
        full = (await sendBatch(options.prisma, transport, logger, settings)) === settings.batchSize;
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

async function sendBatch(prisma: PrismaClient, transport: EmailTransport, logger: Logger, settings: typeof mailerDefaults): Promise<number> {
  const timeout = settings.batchSize * settings.sendTimeoutMs * 3 + 5000;
  return prisma.$transaction(
    async (tx) => {
      const emails = await claimPendingEmails(tx, settings.batchSize);
      let sent = 0;
      for (const email of emails) if (await sendOne(tx, transport, logger, email, settings.maxAttempts)) sent++;
      return sent;
    },
    { timeout, maxWait: 10_000 },
  );
}

/** claimPendingEmails: the oldest pending rows no other mailer holds, locked until the batch commits. */
function claimPendingEmails(tx: Tx, limit: number): Promise<ClaimedEmail[]> {
  return tx.$queryRaw<ClaimedEmail[]>`
    SELECT id::text, recipient, template, data, attempts FROM emails
    WHERE status = 'pending'
    ORDER BY created_at, id
    LIMIT ${limit}
    FOR UPDATE SKIP LOCKED`;
}

/** Returns whether the email was sent. */
async function sendOne(tx: Tx, transport: EmailTransport, logger: Logger, email: ClaimedEmail, maxAttempts: number): Promise<boolean> {
  const { subject, text } = renderEmail(email.template, email.data);
  try {
    await transport.send({ id: email.id, to: email.recipient, template: email.template, subject, text });
    await tx.email.update({ where: { id: email.id }, data: { status: "sent", sentAt: new Date(), attempts: { increment: 1 }, lastError: null } });
    return true;
  } catch (error) {
    const message = maskUrlCredentials(error instanceof Error ? error.message : String(error)).slice(0, 2000);
    const final = email.attempts + 1 >= maxAttempts;
    await tx.email.update({
      where: { id: email.id },
      data: { status: final ? "failed" : "pending", attempts: { increment: 1 }, lastError: message },
    });
    logger.warn({ emailId: email.id, template: email.template, attempt: email.attempts + 1, final, error: message }, "email not sent");
    return false;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
