import { query, type Executor } from "../events/index.ts";
import { sql } from "../sql/index.ts";
import { SecretDecryptionError } from "./errors.ts";
import { openSecret, sealSecret, secretKeys, type OpenedSecret, type SecretKeys } from "./secrets.ts";

export interface EncryptionKeys {
  /** The key secrets are written under (EndpointSettings' encryptionKey; the shop's ENCRYPTION_KEY). */
  encryptionKey: string | undefined;
  /** Keys secrets may still be under (the shop's ENCRYPTION_KEY_PREVIOUS), newest first. */
  previousEncryptionKeys?: readonly string[] | undefined;
}

export interface ReencryptOptions extends EncryptionKeys {
  /** Endpoints read and written per statement (default 500). */
  batchSize?: number;
  /** Count what would be re-encrypted, write nothing. */
  dryRun?: boolean;
  /** Stops the pass between batches (a worker stopping); what is done stays done. */
  signal?: AbortSignal;
}

/** What one pass found and did, in stored secret values (an endpoint's secret and, while stored, its previous secret). */
export interface ReencryptResult {
  /** Endpoints read. */
  endpoints: number;
  /** Values already under the current key in the current format: left alone. */
  current: number;
  /** Values under a previous key, or in the `v1` format: to be written again under the current key. */
  outdated: number;
  /** Of the outdated values, those written again (none in a dry run). */
  reencrypted: number;
  /** Values under no key given, or tampered with: left alone (their endpoints cannot deliver). */
  unreadable: number;
  /** Endpoints changed or deleted between read and write (a rotate-secret): left for the next pass. */
  changed: number;
}

const defaultBatchSize = 500;

function checkedBatchSize(batchSize = defaultBatchSize): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive whole number, not ${batchSize}`);
  return batchSize;
}

interface StoredSecrets {
  id: string;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
}

/**
 * readBatch: $1 the last id of the previous batch (none: from the start), $2 the batch size. One
 * keyset page of webhook_endpoints by primary key; no lock (the write checks the values instead).
 */
function readBatch(db: Executor, after: string | null, limit: number): Promise<StoredSecrets[]> {
  return query<StoredSecrets>(db, sql`
    SELECT id::text AS id, secret_encrypted AS "secretEncrypted", previous_secret_encrypted AS "previousSecretEncrypted"
    FROM webhook_endpoints WHERE ${after === null ? sql`true` : sql`id > ${after}::uuid`}
    ORDER BY id LIMIT ${limit}`);
}

/** Every stored value, one keyset batch at a time, with what each is under (undefined: unreadable). */
async function* storedSecrets(db: Executor, keys: SecretKeys, batchSize: number, signal?: AbortSignal) {
  for (let after: string | null = null; !signal?.aborted; ) {
    const rows = await readBatch(db, after, batchSize);
    if (rows.length === 0) return;
    yield rows.map((row) => ({
      row,
      secret: tryOpen(row.secretEncrypted, keys),
      previous: row.previousSecretEncrypted === null ? null : tryOpen(row.previousSecretEncrypted, keys),
    }));
    after = rows.at(-1)!.id;
  }
}

function tryOpen(stored: string, keys: SecretKeys): OpenedSecret | undefined {
  try {
    return openSecret(stored, keys);
  } catch (error) {
    if (error instanceof SecretDecryptionError) return undefined;
    throw error;
  }
}

const isCurrent = (opened: OpenedSecret) => opened.keyIndex === 0 && opened.format === "v2";

/** The value to store: an outdated one sealed again under the current key, else the one stored. */
function reseal(stored: string, opened: OpenedSecret | null | undefined, keys: SecretKeys): string {
  return opened && !isCurrent(opened) ? sealSecret(opened.secret, keys.current) : stored;
}

/**
 * Writes every endpoint secret (and previous secret, while stored) that is not under the current
 * key again under it, in keyset batches by id. Each row is written only if both its values are
 * still what was read, so the pass can be stopped and run again at any time, and a rotate-secret
 * between read and write wins (the row counts as `changed` and the next pass takes it). Unreadable
 * values are left as they are. Without `encryptionKey`, EncryptionKeyMissingError.
 */
export async function reencryptSecrets(db: Executor, options: ReencryptOptions): Promise<ReencryptResult> {
  const keys = secretKeys(options.encryptionKey, options.previousEncryptionKeys);
  const result: ReencryptResult = { endpoints: 0, current: 0, outdated: 0, reencrypted: 0, unreadable: 0, changed: 0 };
  for await (const batch of storedSecrets(db, keys, checkedBatchSize(options.batchSize), options.signal)) {
    const rewrites = [];
    for (const { row, secret, previous } of batch) {
      const values = previous === null ? [secret] : [secret, previous];
      const unreadable = values.filter((opened) => opened === undefined).length;
      const outdated = values.filter((opened) => opened !== undefined && !isCurrent(opened)).length;
      result.endpoints += 1;
      result.unreadable += unreadable;
      result.outdated += outdated;
      result.current += values.length - unreadable - outdated;
      if (outdated === 0) continue;
      const previousValue = row.previousSecretEncrypted && reseal(row.previousSecretEncrypted, previous, keys);
      rewrites.push({ row, outdated, secret: reseal(row.secretEncrypted, secret, keys), previous: previousValue });
    }
    if (options.dryRun || rewrites.length === 0) continue;
    const written = new Set(await writeIfUnchanged(db, rewrites));
    for (const rewrite of rewrites) {
      if (written.has(rewrite.row.id)) result.reencrypted += rewrite.outdated;
      else result.changed += 1;
    }
  }
  return result;
}

/**
 * rewriteSecrets: parallel arrays of ids, the values read and the values to write. One UPDATE of
 * the batch; a row is written only if both its values are still the ones read (no lock was held
 * between), so a concurrent rotate-secret or delete wins. `updated_at` is left alone: the endpoint
 * did not change for its tenant. Returns the ids written.
 */
async function writeIfUnchanged(db: Executor, rewrites: { row: StoredSecrets; secret: string; previous: string | null }[]): Promise<string[]> {
  const column = <T>(pick: (rewrite: (typeof rewrites)[number]) => T) => rewrites.map(pick);
  const written = await query<{ id: string }>(db, sql`
    UPDATE webhook_endpoints AS e
    SET secret_encrypted = c.secret_new, previous_secret_encrypted = c.previous_new
    FROM unnest(${column((r) => r.row.id)}::uuid[], ${column((r) => r.row.secretEncrypted)}::text[], ${column((r) => r.secret)}::text[],
                ${column((r) => r.row.previousSecretEncrypted)}::text[], ${column((r) => r.previous)}::text[])
      AS c(id, secret_old, secret_new, previous_old, previous_new)
    WHERE e.id = c.id AND e.secret_encrypted = c.secret_old AND e.previous_secret_encrypted IS NOT DISTINCT FROM c.previous_old
    RETURNING e.id::text AS id`);
  return written.map(({ id }) => id);
}

/** How many stored secret values each key opens; keys are named by position and id, never shown. */
export interface SecretKeyReport {
  endpoints: number;
  current: { keyId: string; secrets: number };
  /** Position 1 is the first previous key given. */
  previous: { position: number; keyId: string; secrets: number }[];
  /** Values under no key given (or tampered with): their endpoints send nothing. */
  unreadable: number;
  /** Values still in the `v1` format (no key id; opened by trial): a re-encryption pass rewrites them. */
  v1Format: number;
}

/** Counts, without writing, which key each stored endpoint secret is under. Without `encryptionKey`, EncryptionKeyMissingError. */
export async function secretKeyReport(db: Executor, options: EncryptionKeys & { batchSize?: number }): Promise<SecretKeyReport> {
  const keys = secretKeys(options.encryptionKey, options.previousEncryptionKeys);
  const counts = [keys.current, ...keys.previous].map(() => 0);
  const report = { endpoints: 0, unreadable: 0, v1Format: 0 };
  for await (const batch of storedSecrets(db, keys, checkedBatchSize(options.batchSize))) {
    for (const { secret, previous } of batch) {
      report.endpoints += 1;
      for (const opened of previous === null ? [secret] : [secret, previous]) {
        if (opened === undefined) report.unreadable += 1;
        else counts[opened.keyIndex]! += 1;
        if (opened?.format === "v1") report.v1Format += 1;
      }
    }
  }
  return {
    ...report,
    current: { keyId: keys.current.id, secrets: counts[0]! },
    previous: keys.previous.map((key, i) => ({ position: i + 1, keyId: key.id, secrets: counts[i + 1]! })),
  };
}
