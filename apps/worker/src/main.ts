import { loadConfigOrExit } from "@outbox/config";
import { createLogger, StartAbortedError } from "outbox-relay";
import { startMailer } from "@outbox/mailer";
import { orderHandlers, startWorker } from "./runtime.ts";
import { stopOnSignals } from "./signals.ts";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: "worker", environment: config.NODE_ENV });

// Signals are handled from the start: a stop while the worker waits for Postgres or Redis ends it
// at once (nothing was consumed yet); a stop once it runs lets the active jobs finish.
const abortStart = new AbortController();
const starting = startWorker({
  config,
  logger,
  signal: abortStart.signal,
  handlers: orderHandlers(config),
}).then((worker) => {
  // One pool per process: the mailer shares the worker's.
  const mailer = startMailer({ db: worker.db, logger: logger.child({ component: "mailer" }), smtpUrl: config.SMTP_URL });
  return { worker, mailer };
});

stopOnSignals(
  async () => {
    abortStart.abort();
    const started = await starting.catch((error: unknown) => {
      if (error instanceof StartAbortedError) return undefined;
      throw error;
    });
    if (!started) {
      logger.info("worker stopped before it started");
      return;
    }
    await started.mailer.stop();
    await started.worker.stop();
  },
  logger,
  config.SHUTDOWN_TIMEOUT_MS + 5000,
);

try {
  await starting;
} catch (error) {
  if (!(error instanceof StartAbortedError)) {
    logger.fatal({ err: error }, "worker failed to start");
    process.exit(1);
  }
}
