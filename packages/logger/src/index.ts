import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/** Paths whose values never reach a log line, at the top level and one level down. */
const secretKeys = [
  "password",
  "secret",
  "signingSecret",
  "secretEncrypted",
  "previousSecretEncrypted",
  "ENCRYPTION_KEY",
  "ADMIN_PASSWORD",
  "SMTP_URL",
  "authorization",
  "cookie",
  "webhook-signature",
];
const redactPaths = [
  ...secretKeys.flatMap((key) => [`["${key}"]`, `*["${key}"]`]),
  'req.headers["authorization"]',
  'req.headers["cookie"]',
  'headers["webhook-signature"]',
];

const credentialsInUrl = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi;

/** Removes the password from every `scheme://user:password@host` in a string. */
export function maskUrlCredentials(text: string): string {
  return text.replace(credentialsInUrl, "$1***@");
}

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  destination?: DestinationStream;
}

export function createLogger({ level = "info", name, destination }: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level,
    ...(name ? { name } : {}),
    redact: { paths: redactPaths, censor: "[redacted]" },
    formatters: { log: (record) => maskStrings(record) as Record<string, unknown> },
    serializers: { err: (error: Error) => maskStrings(pino.stdSerializers.err(error)) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === "string" ? maskUrlCredentials(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

function maskStrings(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskUrlCredentials(value);
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskStrings(item, depth + 1)]));
}
