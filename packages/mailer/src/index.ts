export { mailerDefaults, startMailer, validateMailerSettings, type MailerOptions, type RunningMailer } from "./mailer.ts";
export { renderEmail } from "./templates.ts";
export { logTransport, smtpTransport, type EmailTransport, type OutgoingEmail } from "./transport.ts";
