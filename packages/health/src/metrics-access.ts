import { createHash, timingSafeEqual } from "node:crypto";

export interface MetricsCredentials {
  /** METRICS_TOKEN: `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** The admin credentials (HTTP basic): ADMIN_USER / ADMIN_PASSWORD. */
  basic?: { user: string; password: string } | undefined;
}

const digest = (value: string) => createHash("sha256").update(value).digest();
const same = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

/**
 * Whether an Authorization header may read /metrics: the metrics token (bearer) or the admin
 * credentials (basic), compared in constant time. With neither configured, nobody may.
 */
export function mayReadMetrics({ token, basic }: MetricsCredentials, authorization: string | undefined): boolean {
  const bearer = /^bearer +(\S+) *$/i.exec(authorization ?? "")?.[1];
  if (bearer !== undefined) return token !== undefined && same(bearer, token);
  const encoded = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization ?? "")?.[1];
  if (encoded === undefined || basic === undefined) return false;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const userMatches = same(decoded.slice(0, Math.max(colon, 0)), basic.user);
  const passwordMatches = same(decoded.slice(colon + 1), basic.password);
  return colon >= 0 && userMatches && passwordMatches;
}
