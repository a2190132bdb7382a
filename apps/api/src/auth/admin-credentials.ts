import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError, type Env } from "@outbox/config";

export interface AdminCredentials {
  user: string;
  /** SHA-256 of the user and the password: every comparison is of 32 bytes, whatever was sent. */
  userDigest: Buffer;
  passwordDigest: Buffer;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * The admin credentials (ADMIN_USER / ADMIN_PASSWORD). There is no default password: without
 * ADMIN_PASSWORD this throws a ConfigError naming it (the API refuses to start). A development
 * start gets one generated into `.env` (@outbox/config's loadConfigOrExit); the config's schema
 * refuses published and weak values.
 */
export function adminCredentialsOf(config: Pick<Env, "ADMIN_USER" | "ADMIN_PASSWORD">): AdminCredentials {
  if (!config.ADMIN_PASSWORD) {
    throw new ConfigError([
      "ADMIN_PASSWORD is not set: the API has no admin password (a development start generates one into .env; elsewhere set a random one)",
    ]);
  }
  return { user: config.ADMIN_USER, userDigest: digest(config.ADMIN_USER), passwordDigest: digest(config.ADMIN_PASSWORD) };
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
