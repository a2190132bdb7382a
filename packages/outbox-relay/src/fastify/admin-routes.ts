import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { deadListResult, replayResult, retryResult, skipResult, type DeadListResult, type ReplayResult, type RetryResult, type SkipResult, type StatsResult } from "outbox-relay/admin";
import type { Env } from "@outbox/config";
import { DeadLetterError, listDead, ReleaseNotQueuedError, retryAllDead, retryDead, skipDead } from "outbox-relay/dead-letter";
import { orderEvents } from "@outbox/domain";
import { replayProcessed, ReplayRefusedError } from "outbox-relay/outbox";
import type { QueueSet } from "outbox-relay/queues";
import { schedulesQueueName } from "outbox-relay/schedules";
import type { Database } from "outbox-relay/sql";
import { collectStats } from "outbox-relay/stats";
import { declareAccess } from "../auth/route-access.ts";
import { ApiError } from "../errors.ts";
import * as responses from "../responses.ts";
import { deadLetterParams, deadLetterQuery, replayBody } from "../schemas.ts";

const { adminRefusals, answers } = responses;
import { bullBoardAdapterOptions, bullBoardUiConfig } from "../outbox-page/index.ts";

export const boardPath = "/admin/queues";

/**
 * Bull Board at /admin/queues and the admin API at /admin/api, every route the admin's (HTTP basic).
 * The dead-letter operations are the same module the CLI and the DLQ worker use.
 */
export async function adminRoutes(untyped: FastifyInstance, { config, db, queues }: { config: Env; db: Database; queues: QueueSet }) {
  const app = untyped.withTypeProvider<ZodTypeProvider>();
  // Bull Board's routes and the admin API: the admin's, cross-site posts refused (route-access.ts).
  declareAccess(app, "admin");

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

  const release = { retryBackoffMs: config.RETRY_BACKOFF_MS };
  // Every answer below is the shape `pnpm outbox <command> --json` prints (@outbox/admin-results).
  app.get(
    "/admin/api/stats",
    { config: { access: "admin" }, schema: { summary: "The stats log line's figures", response: answers({ 200: responses.statsResult }, adminRefusals) } },
    async (): Promise<StatsResult> => collectStats(db, queues),
  );
  const replay = {
    summary: "Replay processed events of a type",
    description: "Publishes a copy of every processed event of `type` created in [since, until); the handlers run again for each copy.",
    body: replayBody,
    response: answers({ 200: responses.replayResult }, [400, 409, 413, 415, ...adminRefusals]),
  };
  app.post("/admin/api/replay", { config: { access: "admin" }, schema: replay }, async (request): Promise<ReplayResult> => {
    const body = request.body;
    try {
      const since = new Date(body.since);
      const { until, replayed } = await replayProcessed(db, { catalog: orderEvents, type: body.type, since, ...(body.until ? { until: new Date(body.until) } : {}) });
      return replayResult(body.type, since, until, replayed);
    } catch (error) {
      if (error instanceof ReplayRefusedError) throw new ApiError(409, error.code, error.message);
      throw error;
    }
  });
  const list = { summary: "List dead events, oldest first", querystring: deadLetterQuery, response: answers({ 200: responses.deadListResult }, [400, ...adminRefusals]) };
  app.get("/admin/api/dlq", { config: { access: "admin" }, schema: list }, async (request): Promise<DeadListResult> => deadListResult(await listDead(db, request.query)));
  const retry = {
    summary: "Retry a dead event",
    description: "Back to pending, its job queued before the answer.",
    params: deadLetterParams,
    response: answers({ 200: responses.retryResult }, [400, 404, 409, ...adminRefusals]),
  };
  app.post("/admin/api/dlq/:id/retry", { config: { access: "admin" }, schema: retry }, async (request): Promise<RetryResult> => {
    const { id } = request.params;
    await asApiError(retryDead(db, queues, id, release));
    return retryResult([id]);
  });
  const skip = {
    summary: "Skip a dead event",
    description: "Status skipped; the events of its aggregate it held back run.",
    params: deadLetterParams,
    response: answers({ 200: responses.skipResult }, [400, 404, 409, ...adminRefusals]),
  };
  app.post("/admin/api/dlq/:id/skip", { config: { access: "admin" }, schema: skip }, async (request): Promise<SkipResult> => {
    const { id } = request.params;
    await asApiError(skipDead(db, queues, id, release));
    return skipResult([id]);
  });
  const retryAll = {
    summary: "Retry every dead event (of a type)",
    querystring: deadLetterQuery.pick({ type: true }),
    response: answers({ 200: responses.retryResult }, [400, ...adminRefusals]),
  };
  app.post("/admin/api/dlq/retry-all", { config: { access: "admin" }, schema: retryAll }, async (request): Promise<RetryResult> => {
    const { type } = request.query;
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
