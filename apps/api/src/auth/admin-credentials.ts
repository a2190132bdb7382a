import { createHash, timingSafeEqual } from "node:crypto";
import ipaddr from "ipaddr.js";
import { ConfigError, type Env } from "@outbox/config";

/** Outside production an unset ADMIN_PASSWORD falls back to this, and only while the API listens on loopback. */
export const developmentAdminPassword = "outbox-admin";

export interface AdminCredentials {
  user: string;
  /** SHA-256 of the user and the password: every comparison is of 32 bytes, whatever was sent. */
  userDigest: Buffer;
  passwordDigest: Buffer;
  usesDevelopmentPassword: boolean;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Whether the listen address reaches this machine only: `localhost`, 127.0.0.0/8, ::1 (or ::ffff:127.x.x.x). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").replace(/\.+$/, "").toLowerCase();
  if (bare === "localhost") return true;
  if (!ipaddr.isValid(bare)) return false;
  return ipaddr.process(bare).range() === "loopback";
}

/**
 * The admin credentials (ADMIN_USER / ADMIN_PASSWORD). Outside production, without
 * ADMIN_PASSWORD, the development password is used, but only while the API listens on loopback:
 * on any other address this throws a ConfigError naming ADMIN_PASSWORD (the API refuses to start).
 */
export function adminCredentialsOf(config: Pick<Env, "ADMIN_USER" | "ADMIN_PASSWORD" | "HOST">): AdminCredentials {
  if (!config.ADMIN_PASSWORD && !isLoopbackHost(config.HOST)) {
    throw new ConfigError([
      `ADMIN_PASSWORD is required when the API listens on ${config.HOST}, not a loopback address (the development admin password works only on loopback)`,
    ]);
  }
  const password = config.ADMIN_PASSWORD ?? developmentAdminPassword;
  return { user: config.ADMIN_USER, userDigest: digest(config.ADMIN_USER), passwordDigest: digest(password), usesDevelopmentPassword: !config.ADMIN_PASSWORD };
}

/**
 * Whether a user and password are the admin's. Both are compared, always, in constant time (over
 * fixed-length digests, so neither a wrong length nor a wrong user ends the check early).
 */
export function isAdmin(credentials: AdminCredentials, user: string, password: string): boolean {
  const userMatches = timingSafeEqual(digest(user), credentials.userDigest);
  const passwordMatches = timingSafeEqual(digest(password), credentials.passwordDigest);
  return userMatches && passwordMatches;
}

/** The user and password of an `Authorization: Basic …` value, or undefined when it is not one. */
export function basicCredentials(authorization: string): { user: string; password: string } | undefined {
  const match = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
