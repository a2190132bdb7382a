/** The statuses whose `Retry-After` the delivery honours (RFC 9110 §10.2.3, RFC 6585 §4). */
export const retryAfterStatuses: ReadonlySet<number> = new Set([429, 503]);

/**
 * A `Retry-After` value in milliseconds from `now`: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`). A date in the past is 0; anything else unreadable is null
 * (the schedule's own delay applies).
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names a weekday and a zone (IMF-fixdate, or the obsolete RFC 850 and asctime forms).
  if (!/^[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}
