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
