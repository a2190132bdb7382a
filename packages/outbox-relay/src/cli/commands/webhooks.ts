import type { Database } from "../../sql/index.ts";
import { reencryptSecrets, secretKeyReport, type EncryptionKeys, type ReencryptResult, type SecretKeyReport } from "../../webhooks/reencrypt.ts";
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
