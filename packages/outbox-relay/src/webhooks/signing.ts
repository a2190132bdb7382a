import { createHmac } from "node:crypto";
import { secretKeyBytes } from "./secrets.ts";

/**
 * The Standard Webhooks `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`
 * for each secret, space-separated (the current secret first, then a rotated one in its grace period).
 */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  if (secrets.length === 0) throw new Error("at least one secret is needed to sign a webhook");
  if (id.includes(".")) throw new Error("a webhook id must not contain '.'");
  const content = `${id}.${timestampSeconds}.${body}`;
  return secrets.map((secret) => `v1,${createHmac("sha256", secretKeyBytes(secret)).update(content).digest("base64")}`).join(" ");
}
