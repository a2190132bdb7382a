import type { Logger } from "@outbox/logger";

/**
 * First SIGTERM/SIGINT: a graceful stop. A second one, or a stop that outlives the bound, ends
 * the process at once; open transactions roll back and unfinished jobs run again elsewhere.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, boundMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal; exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "stopping");
    setTimeout(() => {
      logger.error({ boundMs }, "shutdown took too long; exiting");
      process.exit(1);
    }, boundMs).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
