import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { PinoPretty } from "pino-pretty";
import { isFiltered } from "./filters.ts";
import { maskUrlCredentials, maskValue } from "./mask.ts";
import { serializeError, serializeRequest, serializeResponse } from "./serializers.ts";

/** Paths whose values never reach a log line, at the top level and one level down. */
const secretKeys = [
  "password",
  "secret",
  "signingSecret",
  "secretEncrypted",
  "previousSecretEncrypted",
  "ENCRYPTION_KEY",
  "ADMIN_PASSWORD",
  "METRICS_TOKEN",
  "token",
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

/** Fields with a serializer of their own: the record's masking leaves them to it. */
const serializers = { err: serializeError, error: serializeError, req: serializeRequest, res: serializeResponse };

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go (tests); stdout when absent. */
  destination?: DestinationStream;
  /** NODE_ENV: outside production, lines to a terminal are pretty-printed. */
  environment?: string;
  /** Forces pretty (true) or JSON (false) lines; by default pretty only on a terminal outside production. */
  pretty?: boolean;
}

/** Pretty lines for people (a terminal outside production); JSON for everything else (files, pipes, collectors). */
export function wantsPretty({ environment, isTerminal = process.stdout.isTTY === true }: { environment?: string | undefined; isTerminal?: boolean }): boolean {
  return isTerminal && environment !== undefined && environment !== "production";
}

/**
 * pino with secrets kept out: the redacted paths above, URL credentials masked in every string,
 * errors with message, stack, code and cause (never the objects libraries hang on them), requests
 * as method, URL (secret query values redacted) and status. JSON lines, or pino-pretty's on a
 * terminal outside production. Lines can be dropped by filters (addLogFilter).
 */
export function createLogger({ level = "info", name, destination, environment, pretty }: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level,
    ...(name ? { name } : {}),
    redact: { paths: redactPaths, censor: "[redacted]" },
    serializers,
    formatters: {
      log: (record) =>
        Object.fromEntries(Object.entries(record).map(([key, value]) => [key, key in serializers ? value : maskValue(value, serializeError)])),
    },
    hooks: {
      logMethod(args, method, levelValue) {
        if (isFiltered(this, args, levelValue)) return;
        method.apply(this, args.map((arg) => (typeof arg === "string" ? maskUrlCredentials(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  const prettyLines = pretty ?? (!destination && wantsPretty({ environment }));
  if (prettyLines) {
    // Synchronous writes: a process that exits right after a line (a fatal error) still shows it.
    const stream = PinoPretty({
      colorize: !destination,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
      sync: true,
      ...(destination ? { destination } : {}),
    });
    return pino(options, stream);
  }
  return destination ? pino(options, destination) : pino(options);
}
