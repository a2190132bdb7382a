import { maskUrlCredentials } from "../logger/index.ts";

const byCode: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ETIMEDOUT: "timed out",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  // Postgres SQLSTATEs.
  "28P01": "authentication failed",
  "28000": "authentication failed",
  "3D000": "database does not exist",
  "57P01": "the server is shutting down",
  "57P02": "the server is shutting down",
  "57P03": "the server is starting up",
  "53300": "too many connections",
};

const byMessage: [RegExp, string][] = [
  [/NOAUTH|WRONGPASS|invalid password|authentication failed/i, "authentication failed"],
  [/no answer within (\d+) ms/, "no answer within $1 ms"],
  [/Connection is closed|Stream isn't writeable|Connection terminated|connection ended|max retries per request/i, "connection lost"],
  [/None of startup nodes is available|Failed to refresh slots cache/i, "no cluster node answers"],
  [/timeout|timed out/i, "timed out"],
];

/** The errors worth reading: the error, its cause and an AggregateError's errors (localhost tried on IPv6, then IPv4). */
function chain(error: unknown, depth = 0): unknown[] {
  if (depth > 3 || error === null || typeof error !== "object") return error === undefined ? [] : [error];
  const inner = [...((error as { errors?: unknown[] }).errors ?? []), (error as { cause?: unknown }).cause].filter((e) => e !== undefined);
  return [error, ...inner.flatMap((e) => chain(e, depth + 1))];
}

/**
 * Why a store could not be reached, in plain words for on-call: "connection refused", "host not
 * found", "timed out", "authentication failed", "database does not exist" ... (a socket error's
 * code or a Postgres SQLSTATE, else the client's message, credentials masked).
 */
export function describeConnectionError(error: unknown): string {
  const errors = chain(error);
  for (const e of errors) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === "string" && byCode[code]) return byCode[code];
  }
  for (const e of errors) {
    const message = e instanceof Error ? e.message : typeof e === "string" ? e : "";
    for (const [pattern, words] of byMessage) {
      const match = pattern.exec(message);
      if (match) return match[0].replace(pattern, words);
    }
  }
  const message = errors.map((e) => (e instanceof Error ? e.message : String(e))).find((m) => m.length > 0) ?? "unknown error";
  return maskUrlCredentials(message).slice(0, 200);
}
