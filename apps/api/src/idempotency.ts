import { createHash } from "node:crypto";
import { configure } from "safe-stable-stringify";

/** JSON with object keys sorted (so key order does not change the hash); throws on anything JSON cannot hold. */
const canonical = configure({ deterministic: true, strict: true });

/**
 * The hash an Idempotency-Key's request is known by: SHA-256 of the canonical JSON of the body as
 * parsed by its schema, so keys the schema ignores are not part of it (a body with an unknown key
 * is the same request). Request bodies are bounded in depth before this (input-checks.ts).
 */
export function requestHash(body: unknown): string {
  return createHash("sha256").update(canonical(body) ?? "null").digest("hex");
}
