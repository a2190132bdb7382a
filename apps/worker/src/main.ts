import { loadConfigOrExit } from "@outbox/config";
import { createDomainHandlers } from "@outbox/handlers";
import { createLogger } from "@outbox/logger";
import { startMailer } from "@outbox/mailer";
import { createWebhookDeliveryHandler, deliveryOptionsFromConfig } from "@outbox/webhooks";
import { startWorker } from "./runtime.ts";
import { stopOnSignals } from "./signals.ts";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: "worker", environment: config.NODE_ENV });

const worker = await startWorker({
  config,
  logger,
  handlers: ({ metrics }) => ({
    ...createDomainHandlers(),
    WebhookDelivery: createWebhookDeliveryHandler(
      deliveryOptionsFromConfig(config, {
        onAttempt: (attempt) => metrics.recordWebhookAttempt(attempt),
        onEndpointDisabled: () => metrics.recordEndpointDisabled(),
      }),
    ),
  }),
});
// One pool per process: the mailer shares the worker's.
const mailer = startMailer({ db: worker.db, logger: logger.child({ component: "mailer" }), smtpUrl: config.SMTP_URL });

stopOnSignals(
  async () => {
    await mailer.stop();
    await worker.stop();
  },
  logger,
  config.SHUTDOWN_TIMEOUT_MS + 5000,
);
