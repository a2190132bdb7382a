/** SQLSTATEs worth running the whole transaction again for: deadlock, serialization failure. */
const transientCodes = new Set(["40P01", "40001"]);

/** The SQLSTATE of a Postgres error (pg puts it on `code`), or undefined. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A deadlock or serialization failure: nothing is wrong with the work, only with its timing. */
export function isTransientError(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && transientCodes.has(code);
}

const connectionCodes = new Set(["57P01", "57P02", "57P03", "53300"]);
const socketCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]);

/**
 * The database could not be reached or dropped the connection (a restart, a failover, too many
 * connections): SQLSTATE class 08, an administrator's or a crash's shutdown, or a socket error.
 * The work was not at fault; it is worth doing again once Postgres is back.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && (code.startsWith("08") || connectionCodes.has(code) || socketCodes.has(code))) return true;
  return error instanceof Error && /Connection terminated|connection .*(closed|ended)|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(error.message);
}
