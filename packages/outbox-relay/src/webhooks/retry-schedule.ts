/**
 * A delivery's retry schedule: one wait per attempt, each counted from the end of the attempt
 * before it (the first, normally 0, from the delivery's creation). Written as durations with a
 * unit, `0,1m,10m,1h,6h` (the default: five attempts over about seven hours), kept in ms.
 */
export type RetrySchedule = readonly number[];

export const defaultRetrySchedule: RetrySchedule = [0, 60_000, 600_000, 3_600_000, 21_600_000];

/** What any schedule (the service's or an endpoint's) may ask: a delivery job never has more runs than `maxAttempts`. */
export const retryScheduleLimits = { maxAttempts: 10, maxWaitMs: 24 * 3_600_000 } as const;

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationPattern = /^(\d{1,9})(ms|s|m|h|d)?$/;

/** Why a schedule is refused, or null: 1 to 10 waits, each from 0 to 24 h. */
export function retryScheduleProblem(text: string): string | null {
  const items = text.split(",").map((item) => item.trim());
  if (text.trim() === "") return "must list at least one wait, e.g. 0,1m,10m,1h,6h";
  if (items.length > retryScheduleLimits.maxAttempts) return `must list at most ${retryScheduleLimits.maxAttempts} waits (one per attempt), got ${items.length}`;
  for (const item of items) {
    const match = durationPattern.exec(item);
    if (!match) return `"${item}" is not a duration: a whole number with ms, s, m, h or d (0 needs none)`;
    if (match[2] === undefined && match[1] !== "0") return `"${item}" needs a unit: ms, s, m, h or d`;
    if (Number(match[1]) * unitMs[match[2] ?? "ms"]! > retryScheduleLimits.maxWaitMs) return `"${item}" is longer than 24h, the longest wait allowed`;
  }
  return null;
}

/** The schedule in ms; throws RangeError with retryScheduleProblem's reason. */
export function parseRetrySchedule(text: string): RetrySchedule {
  const problem = retryScheduleProblem(text);
  if (problem) throw new RangeError(`retry schedule ${problem}`);
  return text.split(",").map((item) => {
    const [, amount, unit = "ms"] = durationPattern.exec(item.trim())!;
    return Number(amount) * unitMs[unit]!;
  });
}

/**
 * The wait before the next attempt after attempt `attempt` (1-based) failed, or null when it was
 * the last. A receiver's `Retry-After` lengthens the wait, never beyond the schedule's longest, so
 * a receiver cannot park a delivery for longer than the schedule would.
 */
export function waitAfterAttempt(schedule: RetrySchedule, attempt: number, retryAfterMs: number | null): number | null {
  if (attempt >= schedule.length) return null;
  const wait = schedule[attempt]!;
  if (retryAfterMs === null) return wait;
  return Math.max(wait, Math.min(Math.ceil(retryAfterMs), Math.max(...schedule)));
}
