import { existsSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { chromium, type Browser } from "playwright-core";
import { createLogger } from "outbox-relay/logger";
import type { HandlerMap } from "outbox-relay/processor";
import { buildApp } from "../src/app.ts";
import { startWorker, type RunningWorker } from "../../worker/src/index.ts";
import { testHandlers } from "../../worker/test/fixtures/test-handlers.ts";
import { setupPipeline, type PipelineEnv } from "../../worker/test/helpers.ts";

/** Debian's Chromium (.ci/run installs it), as the browser tests drive it. */
export const chromiumPath = "/usr/bin/chromium";

export function chromiumInstalled(): boolean {
  return existsSync(chromiumPath);
}

/** Headless Chromium with nothing of its own going to the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
}

/** The admin credentials the browser tests' API is started with. */
export const admin = { username: "ops", password: "correct-horse-battery" };

export interface AdminBrowser {
  pipeline: PipelineEnv;
  worker: RunningWorker;
  queues: ReturnType<PipelineEnv["openQueues"]>;
  app: FastifyInstance;
  baseUrl: string;
  browser: Browser;
  close(): Promise<void>;
}

/** A database and Redis of the test's own, a worker with `handlers`, the API on loopback with `admin`, and Chromium. */
export async function startAdminBrowser(handlers: HandlerMap = testHandlers): Promise<AdminBrowser> {
  const pipeline = await setupPipeline();
  const config = pipeline.config({ ADMIN_USER: admin.username, ADMIN_PASSWORD: admin.password });
  const worker = await startWorker({ config, handlers, logger: createLogger({ level: config.LOG_LEVEL }) });
  const queues = pipeline.openQueues();
  const app = await buildApp({ config, db: pipeline.sql, prisma: pipeline.prisma, logger: createLogger({ level: "silent" }), queues });
  const baseUrl = await app.listen({ host: "127.0.0.1", port: 0 });
  const browser = await launchChromium();
  return {
    pipeline,
    worker,
    queues,
    app,
    baseUrl,
    browser,
    async close() {
      await browser.close();
      await app.close();
      await queues.shut();
      await worker.stop();
      await pipeline.cleanup();
    },
  };
}
