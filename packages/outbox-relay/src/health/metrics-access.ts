import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Whether an Authorization header may read a worker's /metrics: `Bearer <METRICS_TOKEN>`, compared
 * in constant time. Only the token: the worker has no failed-login throttle, so it takes no
 * password. Without a token, nobody may.
 */
export function mayReadMetrics(token: string | undefined, authorization: string | undefined): boolean {
  const bearer = /^bearer +(\S+) *$/i.exec(authorization ?? "")?.[1];
  return token !== undefined && bearer !== undefined && timingSafeEqual(digest(bearer), digest(token));
}
