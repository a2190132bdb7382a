import { createHash } from "node:crypto";
import type { Prisma, PrismaClient, Tx } from "@outbox/db";
import { conflict } from "./errors.ts";

export interface StoredResponse {
  status: number;
  body: Record<string, unknown>;
}

/** A JSON text of the value with object keys sorted, so key order does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function requestHash(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

/**
 * Runs `work` at most once per (scope, key). The key row is inserted first in the same transaction
 * as the work: a concurrent request with the same key blocks on that insert until the first one
 * commits (then replays its answer) or rolls back (then does the work itself). Only answers that
 * committed are stored, so a refused request (4xx) can be sent again with the same key.
 */
export async function runIdempotently(
  prisma: PrismaClient,
  request: { scope: string; key: string | undefined; body: unknown },
  work: (tx: Tx) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const { scope, key } = request;
  if (key === undefined) return { ...(await prisma.$transaction(work)), replayed: false };
  const hash = requestHash(request.body);
  return prisma.$transaction(async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body)
      VALUES (${scope}, ${key}, ${hash}, 0, '{}'::jsonb)
      ON CONFLICT (scope, key) DO NOTHING`;
    if (inserted === 0) {
      const first = await tx.idempotencyKey.findUniqueOrThrow({ where: { scope_key: { scope, key } } });
      if (first.requestHash !== hash) {
        throw conflict("IDEMPOTENCY_KEY_REUSED", `Idempotency-Key ${key} was already used with a different request body`);
      }
      return { status: first.responseStatus, body: first.responseBody as Record<string, unknown>, replayed: true };
    }
    const response = await work(tx);
    const body = JSON.parse(JSON.stringify(response.body)) as Prisma.InputJsonObject;
    await tx.idempotencyKey.update({ where: { scope_key: { scope, key } }, data: { responseStatus: response.status, responseBody: body } });
    return { status: response.status, body, replayed: false };
  });
}
