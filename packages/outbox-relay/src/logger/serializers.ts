import { maskUrlCredentials, maskValue } from "./mask.ts";

export interface SerializedError {
  /** The error's class (its constructor's name). */
  type: string;
  message: string;
  stack?: string;
  code?: string | number;
  /** The error it wraps (`new Error(message, { cause })`), serialized the same way. */
  cause?: unknown;
  /** An AggregateError's errors (a connection to `localhost` tried on IPv4 and IPv6, say). */
  errors?: unknown[];
  [property: string]: unknown;
}

const maxCauseDepth = 4;
const maxAggregated = 5;

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || (typeof value === "object" && value !== null && typeof (value as Error).message === "string" && typeof (value as Error).stack === "string");
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(value);
}

/**
 * An error as a log line holds it: type, message, stack, its own primitive properties (`code`,
 * `errno`, `syscall`, `port`, Postgres' `detail`, `hint`, `constraint` ...), plain objects and
 * arrays among them, its `cause` and an AggregateError's `errors`, each serialized the same way.
 * Properties that hold class instances are left out: pg puts the failed client (its connection
 * settings, password included) on the error, other libraries a socket or a request.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!isErrorLike(error)) return maskValue(error, (inner) => serializeError(inner, depth + 1));
  const serialized: SerializedError = { type: error.constructor?.name ?? "Error", message: error.message };
  for (const [key, value] of Object.entries(error)) {
    if (key === "cause" || key === "errors" || key === "message" || key === "stack" || value === undefined) continue;
    if (typeof value === "bigint") serialized[key] = value.toString();
    else if (value === null || typeof value !== "object") {
      if (typeof value !== "function" && typeof value !== "symbol") serialized[key] = value;
    } else if (isPlain(value as object)) serialized[key] = value;
  }
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0 && depth < maxCauseDepth) {
    serialized.errors = errors.slice(0, maxAggregated).map((inner) => serializeError(inner, depth + 1));
    if (!serialized.message) serialized.message = [...new Set(errors.map((inner) => (isErrorLike(inner) ? inner.message : String(inner))))].join("; ");
    if (serialized.code === undefined) {
      const code = (errors.find((inner) => (inner as { code?: unknown } | null)?.code !== undefined) as { code?: string | number } | undefined)?.code;
      if (code !== undefined) serialized.code = code;
    }
  }
  if (typeof error.stack === "string") serialized.stack = error.stack;
  if (Object.hasOwn(error, "cause") && error.cause !== undefined) {
    serialized.cause = depth < maxCauseDepth ? serializeError(error.cause, depth + 1) : "[cause chain cut]";
  }
  return maskValue(serialized, (inner) => serializeError(inner, depth + 1));
}

/** Query parameters whose values never reach a log line. */
const secretParameter = /token|secret|passw|pwd|key|signature|sig$|auth|session|credential|code/i;

/** A request URL with the values of secret-looking query parameters redacted (and URL credentials masked). */
export function safeUrl(url: string): string {
  const queryAt = url.indexOf("?");
  if (queryAt < 0) return maskUrlCredentials(url);
  const query = url
    .slice(queryAt + 1)
    .split("&")
    .map((pair) => {
      const [name = "", ...value] = pair.split("=");
      return value.length > 0 && secretParameter.test(decodeURIComponentSafe(name)) ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return maskUrlCredentials(`${url.slice(0, queryAt)}?${query}`);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

interface RequestLike {
  method?: string;
  url?: string;
  /** Fastify's request. */
  ip?: string;
  /** Node's IncomingMessage. */
  socket?: { remoteAddress?: string };
}

/** A request (Fastify's or Node's) as a log line holds it: method, URL without query secrets, client address. */
export function serializeRequest(request: unknown): unknown {
  if (request === null || typeof request !== "object") return request;
  const { method, url, ip, socket } = request as RequestLike;
  return { method, url: typeof url === "string" ? safeUrl(url) : url, remoteAddress: ip ?? socket?.remoteAddress };
}

/** A response (Fastify's reply or Node's ServerResponse) as a log line holds it: the status code. */
export function serializeResponse(response: unknown): unknown {
  if (response === null || typeof response !== "object") return response;
  return { statusCode: (response as { statusCode?: number }).statusCode };
}
