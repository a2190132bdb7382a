import type { Logger } from "pino";

/** Decides from a log call's first argument (its fields) and its level whether to drop the line. */
export type LogFilter = (fields: Record<string, unknown>, level: number) => boolean;

const filtersKey = Symbol.for("outbox.logFilters");
type Filtered = { [filtersKey]?: LogFilter[] };

/**
 * Drops the lines `filter` returns true for, on this logger and every child of it (children made
 * before or after: pino's children inherit from their parent). Returns a function that removes it.
 * Used to keep a dependency's outage to one line (see outbox-relay/health's watchDependency).
 */
export function addLogFilter(logger: Logger, filter: LogFilter): () => void {
  const target = logger as Logger & Filtered;
  target[filtersKey] = [...(target[filtersKey] ?? []), filter];
  return () => {
    target[filtersKey] = (target[filtersKey] ?? []).filter((existing) => existing !== filter);
  };
}

/** True when a filter on this logger (or an ancestor) drops a line with these arguments. */
export function isFiltered(logger: unknown, args: unknown[], level: number): boolean {
  const filters = (logger as Filtered)[filtersKey];
  if (!filters?.length) return false;
  const [first] = args;
  if (first === null || typeof first !== "object") return false;
  const fields = first instanceof Error ? { err: first } : (first as Record<string, unknown>);
  return filters.some((filter) => filter(fields, level));
}
