import { loadConfigOrExit } from "@outbox/config";
import { createDomainHandlers } from "@outbox/handlers";
import { createLogger } from "@outbox/logger";
import { startMailer } from "@outbox/mailer";
import { createPrisma } from "@outbox/db";
import { createWebhookDeliveryHandler, deliveryOptionsFromConfig } from "@outbox/webhooks";
import { startWorker } from "./runtime.ts";
import { stopOnSignals } from "./signals.ts";

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: "worker" });

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
const mailerPrisma = createPrisma(config.DATABASE_URL, { poolSize: 2 });
const mailer = startMailer({ prisma: mailerPrisma, logger: logger.child({ component: "mailer" }), smtpUrl: config.SMTP_URL });

stopOnSignals(
  async () => {
    await mailer.stop();
    await worker.stop();
    await mailerPrisma.$disconnect();
  },
  logger,
  config.SHUTDOWN_TIMEOUT_MS + 5000,
);
