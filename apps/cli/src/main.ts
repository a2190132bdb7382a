// `pnpm outbox <command>`: the package's admin command line with the order catalog and the shop's
// configuration (.env, the environment; a flag overrides its variable).
import { loadConfigOrExit } from "@outbox/config";
import { orderEvents } from "@outbox/domain";
import { runCli } from "outbox-relay/admin";

// A reader that closed the pipe early (`pnpm outbox dlq list | head`) is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  program: "pnpm outbox",
  settings: (flags) => {
    const config = loadConfigOrExit();
    const clusterNodes = flags["redis-cluster-nodes"] ?? config.REDIS_CLUSTER_NODES;
    return {
      databaseUrl: flags["database-url"] ?? config.DATABASE_URL,
      redis: { url: flags["redis-url"] ?? config.REDIS_URL, ...(clusterNodes ? { clusterNodes } : {}) },
      queuePrefix: flags["queue-prefix"] ?? config.QUEUE_PREFIX,
      retryBackoffMs: config.RETRY_BACKOFF_MS,
      catalog: orderEvents,
    };
  },
  // migrate needs only the database: no configuration is read when the flag names it.
  databaseUrl: (flags) => flags["database-url"] ?? loadConfigOrExit().DATABASE_URL,
  encryptionKeys: () => {
    const config = loadConfigOrExit();
    return { encryptionKey: config.ENCRYPTION_KEY, previousEncryptionKeys: config.ENCRYPTION_KEY_PREVIOUS };
  },
});
