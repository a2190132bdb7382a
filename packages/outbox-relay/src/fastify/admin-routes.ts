import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { DeadListResult, ReplayResult, RetryResult, SkipResult, StatsResult } from "../admin/index.ts";
import type { AdminContext } from "./context.ts";
import { adminRefusals, answers, deadLetterParams, deadLetterQuery, deadListResult, replayBody, replayResult, retryResult, skipResult, statsResult } from "./schemas.ts";

/**
 * The admin API at /admin/api: stats, the dead-letter operations and replay, the operations (and
 * the answers) of `outbox-relay/admin` and of `outbox-relay … --json`. A refused operation answers
 * its status and code (errors.ts).
 */
export async function adminRoutes(untyped: FastifyInstance, { admin, queues }: AdminContext): Promise<void> {
  const app = untyped.withTypeProvider<ZodTypeProvider>();
  const tags = ["admin"];

  app.get(
    "/admin/api/stats",
    { schema: { tags, summary: "The stats log line's figures", response: answers({ 200: statsResult }, adminRefusals) } },
    async (): Promise<StatsResult> => admin.stats(),
  );

  const replay = {
    tags,
    summary: "Replay processed events of a type",
    description: "Publishes a copy of every processed event of `type` created in [since, until); the handlers run again for each copy.",
    body: replayBody(queues.catalog.types),
    response: answers({ 200: replayResult }, [400, 409, 413, 415, ...adminRefusals]),
  };
  app.post("/admin/api/replay", { schema: replay }, async (request): Promise<ReplayResult> => {
    const { type, since, until } = request.body;
    return admin.replay({ type, since: new Date(since), ...(until ? { until: new Date(until) } : {}) });
  });

  const list = { tags, summary: "List dead events, oldest first", querystring: deadLetterQuery, response: answers({ 200: deadListResult }, [400, ...adminRefusals]) };
  app.get("/admin/api/dlq", { schema: list }, async (request): Promise<DeadListResult> => admin.listDead(request.query));

  const retry = {
    tags,
    summary: "Retry a dead event",
    description: "Back to pending, its job queued before the answer.",
    params: deadLetterParams,
    response: answers({ 200: retryResult }, [400, 404, 409, ...adminRefusals]),
  };
  app.post("/admin/api/dlq/:id/retry", { schema: retry }, async (request): Promise<RetryResult> => admin.retryDead(request.params.id));

  const skip = {
    tags,
    summary: "Skip a dead event",
    description: "Status skipped; the events of its aggregate it held back run.",
    params: deadLetterParams,
    response: answers({ 200: skipResult }, [400, 404, 409, ...adminRefusals]),
  };
  app.post("/admin/api/dlq/:id/skip", { schema: skip }, async (request): Promise<SkipResult> => admin.skipDead(request.params.id));

  const retryAll = {
    tags,
    summary: "Retry every dead event (of a type)",
    querystring: deadLetterQuery.pick({ type: true }),
    response: answers({ 200: retryResult }, [400, ...adminRefusals]),
  };
  app.post("/admin/api/dlq/retry-all", { schema: retryAll }, async (request): Promise<RetryResult> => {
    const { type } = request.query;
    return admin.retryAllDead(type ? { type } : {});
  });
}
