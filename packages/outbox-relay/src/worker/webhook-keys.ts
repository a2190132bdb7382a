import type { Logger } from "../logger/index.ts";
import type { Queryable } from "../sql/index.ts";
import { reencryptSecrets, type EncryptionKeys } from "../webhooks/reencrypt.ts";

/**
 * The worker's re-encryption pass: once at start, while previous keys are set, every webhook secret
 * not under the current key is written again under it (outbox-relay/webhooks' reencryptSecrets). It
 * runs in the background and never fails the worker: one info line with its counts when done, an
 * error line when it fails (the secrets stay readable; the next start, or `webhooks reencrypt`,
 * tries again). `stop()` ends it between batches.
 */
export function startSecretReencryption(db: Queryable, keys: EncryptionKeys | undefined, logger: Logger): { stop(): Promise<void> } {
  if (!keys?.previousEncryptionKeys?.length) return { stop: async () => {} };
  const controller = new AbortController();
  const pass = reencryptSecrets(db, { ...keys, signal: controller.signal }).then(
    (result) => {
      const stopped = controller.signal.aborted;
      logger.info({ ...result, stopped }, stopped ? "webhook secrets' re-encryption stopped with the worker; the next start goes on" : "webhook secrets re-encrypted under the current encryption key");
    },
    (error: unknown) => {
      logger.error({ err: error }, "could not re-encrypt the webhook secrets under the current encryption key; they stay readable under the previous keys and the next start tries again");
    },
  );
  return {
    async stop() {
      controller.abort();
      await pass;
    },
  };
}
