import { type Logger, onStopSignals } from "outbox-relay";

/**
 * SIGTERM/SIGINT by outbox-relay/shutdown's rule: the first one stops gracefully (`stop`, then exit 0);
 * a second within 2 s is the same request (a terminal's Ctrl-C and pnpm's copy of it); a third, or
 * one later than that, or a stop that outlives `boundMs`, ends the process at once (exit 1): open
 * transactions roll back and unfinished jobs run again elsewhere.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, boundMs: number): void {
  onStopSignals({
    graceful(signal) {
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
    },
    repeated(signal) {
      logger.info({ signal }, "already stopping (the same request again); a third signal, or one 2 s from now, exits at once");
    },
    force(signal) {
      logger.warn({ signal }, "signal again; exiting now");
      process.exit(1);
    },
  });
}
