import nodemailer from "nodemailer";
import type { Logger } from "outbox-relay";

export interface OutgoingEmail {
  id: string;
  to: string;
  template: string;
  subject: string;
  text: string;
}

export interface EmailTransport {
  kind: "smtp" | "log";
  send(email: OutgoingEmail): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer. The URL (with its credentials) is never logged. */
export function smtpTransport(smtpUrl: string, from: string, timeoutMs: number): EmailTransport {
  const transporter = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: "smtp",
    async send(email) {
      await transporter.sendMail({ from, to: email.to, subject: email.subject, text: email.text, headers: { "X-Email-Id": email.id } });
    },
    close: () => transporter.close(),
  };
}

/** For development and tests without SMTP_URL: one log line per email, without its body. */
export function logTransport(parent: Logger): EmailTransport {
  const logger = parent.child({ transport: "log" });
  return {
    kind: "log",
    send(email) {
      logger.info({ emailId: email.id, to: email.to, template: email.template, subject: email.subject }, "email (log transport, not sent)");
      return Promise.resolve();
    },
    close: () => undefined,
  };
}
