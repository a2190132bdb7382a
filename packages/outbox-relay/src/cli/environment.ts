// The `outbox-relay` bin's settings: its connection from the flags or the environment (DATABASE_URL,
// REDIS_URL, REDIS_CLUSTER_NODES, QUEUE_PREFIX, RETRY_BACKOFF_MS), its catalog from the module named
// by --catalog or OUTBOX_RELAY_CATALOG, the webhook secrets' keys from ENCRYPTION_KEY and
// ENCRYPTION_KEY_PREVIOUS.
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { EventCatalog } from "../events/index.ts";
import type { EncryptionKeys } from "../webhooks/reencrypt.ts";
import type { ConnectionFlags } from "./args.ts";
import { UsageError } from "./errors.ts";
import type { CliSettings } from "./main.ts";

function isCatalog(value: unknown): value is EventCatalog {
  return typeof value === "object" && value !== null && "types" in value && "policyOf" in value && "has" in value;
}

/** The module's default export if it is a catalog, else its only exported catalog. */
export async function loadCatalog(file: string): Promise<EventCatalog> {
  const module = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  if (isCatalog(module.default)) return module.default;
  const catalogs = Object.values(module).filter(isCatalog);
  if (catalogs.length === 1) return catalogs[0]!;
  throw new UsageError(`--catalog: ${file} exports ${catalogs.length === 0 ? "no catalog (a defineEvents result)" : `${catalogs.length} catalogs; export the service's as default`}`);
}

function required(name: string, value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`set ${name} or pass ${flag}`);
  return value;
}

/** `migrate`'s database, from the flag, else DATABASE_URL. */
export function databaseUrlFrom(flags: ConnectionFlags, env: NodeJS.ProcessEnv): string {
  return required("DATABASE_URL", flags["database-url"] ?? env.DATABASE_URL, "--database-url");
}

/** The settings from the flags, else the environment. */
export async function settingsFrom(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<CliSettings> {
  const clusterNodes = flags["redis-cluster-nodes"] ?? env.REDIS_CLUSTER_NODES;
  const catalogFile = flags.catalog ?? env.OUTBOX_RELAY_CATALOG;
  const backoff = env.RETRY_BACKOFF_MS ? Number(env.RETRY_BACKOFF_MS) : undefined;
  if (backoff !== undefined && !(Number.isInteger(backoff) && backoff > 0)) throw new UsageError(`RETRY_BACKOFF_MS: "${env.RETRY_BACKOFF_MS}" is not a positive whole number`);
  return {
    databaseUrl: databaseUrlFrom(flags, env),
    redis: { url: required("REDIS_URL", flags["redis-url"] ?? env.REDIS_URL, "--redis-url"), ...(clusterNodes ? { clusterNodes } : {}) },
    queuePrefix: flags["queue-prefix"] ?? env.QUEUE_PREFIX ?? "outbox",
    retryBackoffMs: backoff,
    catalog: catalogFile ? await loadCatalog(catalogFile) : undefined,
  };
}


const minKeyLength = 32;

/** ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS (comma-separated), each at least 32 characters; a bad one is a UsageError naming it. */
export function encryptionKeysFrom(env: NodeJS.ProcessEnv): EncryptionKeys {
  const encryptionKey = env.ENCRYPTION_KEY || undefined;
  if (encryptionKey !== undefined && encryptionKey.length < minKeyLength) throw new UsageError(`ENCRYPTION_KEY: must be at least ${minKeyLength} characters`);
  const previous = env.ENCRYPTION_KEY_PREVIOUS ? env.ENCRYPTION_KEY_PREVIOUS.split(",").map((key) => key.trim()) : [];
  previous.forEach((key, i) => {
    if (key.length < minKeyLength) throw new UsageError(`ENCRYPTION_KEY_PREVIOUS: key ${i + 1} of ${previous.length} must be at least ${minKeyLength} characters (a comma-separated list of keys)`);
  });
  return { encryptionKey, previousEncryptionKeys: previous };
}
