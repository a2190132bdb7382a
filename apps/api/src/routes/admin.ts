import basicAuth from "@fastify/basic-auth";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { deadListResult, replayResult, retryResult, skipResult, type DeadListResult, type ReplayResult, type RetryResult, type SkipResult, type StatsResult } from "@outbox/admin-results";
import type { Env } from "@outbox/config";
import { DeadLetterError, listDead, ReleaseNotQueuedError, retryAllDead, retryDead, skipDead } from "@outbox/dead-letter";
import { eventTypes } from "@outbox/events";
import { replayProcessed, ReplayRefusedError } from "@outbox/outbox";
import type { QueueSet } from "@outbox/queues";
import { schedulesQueueName } from "@outbox/schedules";
import type { Database } from "@outbox/sql";
import { collectStats } from "@outbox/stats";
import { isAdmin, type AdminCredentials } from "../auth/admin-credentials.ts";
import { ApiError } from "../errors.ts";
import { bullBoardAdapterOptions, bullBoardUiConfig } from "../outbox-page/index.ts";
import { parseRequest } from "../validation.ts";

export const boardPath = "/admin/queues";

/**
 * Bull Board at /admin/queues and the admin API at /admin/api, every route behind basic auth.
 * The dead-letter operations are the same module the CLI and the DLQ worker use.
 */
export async function adminRoutes(app: FastifyInstance, { config, db, queues, admin }: { config: Env; db: Database; queues: QueueSet; admin: AdminCredentials }) {
  await app.register(basicAuth, {
    authenticate: { realm: "outbox admin" },
    validate: async (user, given) => {
      if (!isAdmin(admin, user, given)) throw new Error("wrong admin user or password");
    },
  });
  app.addHook("onRequest", app.basicAuth);

  const board = new FastifyAdapter();
  const schedules = new Queue(schedulesQueueName, { connection: queues.connection, prefix: queues.prefixOf(schedulesQueueName) });
  app.addHook("onClose", () => schedules.close());
  createBullBoard({
    queues: [...queues.all(), schedules].map((queue) => new BullMQAdapter(queue, bullBoardAdapterOptions(queue.name))),
    serverAdapter: board,
    options: { uiConfig: bullBoardUiConfig },
  });
  board.setBasePath(boardPath);
  await app.register(board.registerPlugin(), { prefix: boardPath });

  const idParams = z.object({ id: z.uuid("must be a UUID") });
  const typeQuery = z.object({ type: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) });

  const replayBody = z.object({
    type: z.enum(eventTypes),
    since: z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time" }),
    until: z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time" }).optional(),
  });

  const release = { retryBackoffMs: config.RETRY_BACKOFF_MS };
  // Every answer below is the shape `pnpm outbox <command> --json` prints (@outbox/admin-results).
  app.get("/admin/api/stats", async (): Promise<StatsResult> => collectStats(db, queues));
  app.post("/admin/api/replay", async (request): Promise<ReplayResult> => {
    const body = parseRequest(replayBody, request.body);
    try {
      const since = new Date(body.since);
      const { until, replayed } = await replayProcessed(db, { type: body.type, since, ...(body.until ? { until: new Date(body.until) } : {}) });
      return replayResult(body.type, since, until, replayed);
    } catch (error) {
      if (error instanceof ReplayRefusedError) throw new ApiError(409, error.code, error.message);
      throw error;
    }
  });
  app.get("/admin/api/dlq", async (request): Promise<DeadListResult> => deadListResult(await listDead(db, parseRequest(typeQuery, request.query, "query"))));
  app.post("/admin/api/dlq/:id/retry", async (request): Promise<RetryResult> => {
    const { id } = parseRequest(idParams, request.params, "params");
    await asApiError(retryDead(db, queues, id, release));
    return retryResult([id]);
  });
  app.post("/admin/api/dlq/:id/skip", async (request): Promise<SkipResult> => {
    const { id } = parseRequest(idParams, request.params, "params");
    await asApiError(skipDead(db, queues, id, release));
    return skipResult([id]);
  });
  app.post("/admin/api/dlq/retry-all", async (request): Promise<RetryResult> => {
    const { type } = parseRequest(typeQuery, request.query, "query");
    return retryResult(await retryAllDead(db, queues, { ...(type ? { type } : {}), ...release }));
  });
}

async function asApiError(operation: Promise<void>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (error instanceof ReleaseNotQueuedError) throw new ApiError(503, error.code, error.message);
    if (!(error instanceof DeadLetterError)) throw error;
    throw new ApiError(error.code === "EVENT_NOT_FOUND" ? 404 : 409, error.code, error.message);
  }
}
