import type { Database } from "../../sql/index.ts";
import { reencryptSecrets, secretKeyReport, type EncryptionKeys, type ReencryptResult, type SecretKeyReport } from "../../webhooks/reencrypt.ts";
import { query } from "../../events/index.ts";
import { sql } from "../../sql/index.ts";
import { EndpointDisabledError, EndpointNotFoundError, ResendTooManyError } from "../../webhooks/errors.ts";
import { resendAll, type ResendAllResult } from "../../webhooks/resend.ts";
import { OperationError } from "../errors.ts";
import { print, table, type CommandContext } from "../output.ts";

type WebhookContext = Pick<CommandContext, "out" | "json"> & { db: Database; keys: EncryptionKeys };

/** `outbox webhooks keys`: how many stored secrets each key opens, and how many none does. */
export async function webhookKeysCommand(ctx: WebhookContext): Promise<SecretKeyReport> {
  const report = await secretKeyReport(ctx.db, ctx.keys);
  print(ctx, report, () => {
    const rows = [
      ["current (ENCRYPTION_KEY)", report.current.keyId, report.current.secrets],
      ...report.previous.map(({ position, keyId, secrets }) => [`previous ${position} (ENCRYPTION_KEY_PREVIOUS)`, keyId, secrets]),
      ["none of them (unreadable)", "-", report.unreadable],
    ];
    const v1 = report.v1Format > 0 ? `; ${report.v1Format} still in the v1 format (webhooks reencrypt rewrites them)` : "";
    return `${table(["key", "key id", "secrets"], rows)}\n\n${report.endpoints} endpoints${v1}`;
  });
  return report;
}

/** `outbox webhooks reencrypt [--dry-run] [--batch-size N]`: every outdated secret written again under the current key. */
export async function webhookReencryptCommand(ctx: WebhookContext, options: { dryRun: boolean; batchSize?: number }): Promise<ReencryptResult & { dryRun: boolean }> {
  const result = { ...(await reencryptSecrets(ctx.db, { ...ctx.keys, ...options })), dryRun: options.dryRun };
  print(ctx, result, () => describeResult(result));
  return result;
}

function describeResult({ endpoints, current, outdated, reencrypted, unreadable, changed, dryRun }: ReencryptResult & { dryRun: boolean }): string {
  const done = dryRun ? `would re-encrypt ${outdated} secrets under the current key (dry run: nothing written)` : `re-encrypted ${reencrypted} of ${outdated} outdated secrets under the current key`;
  const lines = [`${endpoints} endpoints: ${done}; ${current} already under it; ${unreadable} unreadable under every key given`];
  if (changed > 0) lines.push(`${changed} endpoints changed while the pass ran (a secret rotation): run it again to take them`);
  if (unreadable > 0) lines.push("unreadable secrets send nothing: add the key they are under to ENCRYPTION_KEY_PREVIOUS, or register those endpoints again");
  return lines.join("\n");
}

/**
 * `outbox webhooks resend-all <endpointId> --since ISO [--all] [--dry-run]`: the operator's bulk
 * resend, for the endpoint's own tenant (the API's route is the tenant's).
 */
export async function webhookResendAllCommand(
  ctx: WebhookContext,
  command: { endpointId: string; since: Date; onlyFailed: boolean; dryRun: boolean },
): Promise<ResendAllResult> {
  const [endpoint] = await query<{ tenantId: string | null }>(ctx.db, sql`SELECT tenant_id::text AS "tenantId" FROM webhook_endpoints WHERE id = ${command.endpointId}::uuid`);
  if (!endpoint) throw new OperationError("WEBHOOK_ENDPOINT_NOT_FOUND", `no webhook endpoint ${command.endpointId}`);
  try {
    const result = await resendAll(ctx.db, endpoint.tenantId, command.endpointId, command);
    const which = command.onlyFailed ? "failed deliveries" : "deliveries (delivered or failed)";
    print(ctx, result, () =>
      command.dryRun
        ? `${result.matched} ${which} since ${command.since.toISOString()} would be sent again (dry run: nothing queued)`
        : `${result.queued} of ${result.matched} ${which} since ${command.since.toISOString()} queued again, with their webhook-ids`,
    );
    return result;
  } catch (error) {
    if (error instanceof EndpointNotFoundError || error instanceof EndpointDisabledError || error instanceof ResendTooManyError) throw new OperationError(error.code, error.message, { cause: error });
    throw error;
  }
}
