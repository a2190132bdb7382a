/** SQLSTATEs worth running the whole transaction again for: deadlock, serialization failure. */
const transientCodes = new Set(["40P01", "40001"]);

interface DriverAdapterCause {
  kind?: unknown;
  originalCode?: unknown;
}

/**
 * What Prisma's driver adapter said of a failure: a query's error carries it in its meta, a
 * failed COMMIT or ROLLBACK is the adapter's error itself.
 */
function driverAdapterCause(error: unknown): DriverAdapterCause | undefined {
  const e = error as { name?: unknown; cause?: DriverAdapterCause; meta?: { driverAdapterError?: { cause?: DriverAdapterCause } } } | null;
  return e?.meta?.driverAdapterError?.cause ?? (e?.name === "DriverAdapterError" ? e.cause : undefined);
}

/** The SQLSTATE of a Postgres error (pg puts it on `code`; Prisma's driver adapters on their cause), or undefined. */
export function sqlState(error: unknown): string | undefined {
  const prisma = driverAdapterCause(error);
  const code = prisma ? prisma.originalCode : (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A deadlock or serialization failure: nothing is wrong with the work, only with its timing. */
export function isTransientError(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && transientCodes.has(code);
}

const connectionCodes = new Set(["57P01", "57P02", "57P03", "53300"]);
const socketCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** Prisma's codes for the same (database not reachable, socket timeout, connection closed), and its driver adapters' kinds. */
const prismaConnectionCodes = new Set(["P1001", "P1008", "P1017"]);
const driverAdapterConnectionKinds = new Set(["DatabaseNotReachable", "SocketTimeout", "ConnectionClosed"]);

/**
 * The database could not be reached or dropped the connection (a restart, a failover, too many
 * connections): SQLSTATE class 08, an administrator's or a crash's shutdown, or a socket error.
 * The work was not at fault; it is worth doing again once Postgres is back.
 */
export function isConnectionError(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined && (state.startsWith("08") || connectionCodes.has(state))) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && (socketCodes.has(code) || prismaConnectionCodes.has(code))) return true;
  if (driverAdapterConnectionKinds.has(driverAdapterCause(error)?.kind as string)) return true;
  return error instanceof Error && /Connection terminated|connection .*(closed|ended)|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(error.message);
}

const postgresMessages = /Connection terminated|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|Connection ended unexpectedly/i;

/**
 * True when `error` says Postgres could not be reached (not that a statement failed): a SQLSTATE of
 * class 08, a shutdown or start-up, too many connections, pg's own connection messages, or a socket
 * error on one of `ports` (the error, its cause, or an AggregateError's errors). Unlike
 * isConnectionError, a socket error on another port (Redis') is not Postgres'.
 */
export function isPostgresConnectionError(error: unknown, ports: readonly number[]): boolean {
  const seen = [error];
  for (let i = 0; i < seen.length && i < 12; i++) {
    const e = seen[i] as { code?: unknown; port?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | null;
    if (e === null || typeof e !== "object") continue;
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code && (code.startsWith("08") || connectionCodes.has(code))) return true;
    if (typeof e.message === "string" && postgresMessages.test(e.message)) return true;
    if (code && socketCodes.has(code) && typeof e.port === "number" && ports.includes(e.port)) return true;
    if (e.cause !== undefined) seen.push(e.cause);
    if (Array.isArray(e.errors)) seen.push(...(e.errors as unknown[]));
  }
  return false;
}

/** The port a postgresql:// URL connects to. */
export function postgresPort(databaseUrl: string): number {
  return Number(new URL(databaseUrl).port || 5432);
}
