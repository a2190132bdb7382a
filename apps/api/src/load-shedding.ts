import underPressure from "@fastify/under-pressure";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface LoadSheddingOptions {
  /** API_MAX_IN_FLIGHT: /api requests in progress at once; more are refused at once. */
  maxInFlight: number;
  /** Event loop delay past which /api requests are refused (the process is saturated). */
  maxEventLoopDelayMs: number;
}

const counted = Symbol("counted in flight");
type CountedRequest = FastifyRequest & { [counted]?: boolean };

export function overloaded(reply: FastifyReply, why: string): FastifyReply {
  return reply
    .status(503)
    .header("retry-after", "1")
    .send({ error: `the server is at capacity (${why}); try again in a second`, code: "OVERLOADED" });
}

const isApi = (request: FastifyRequest) => request.url.startsWith("/api/");

/**
 * Past its capacity the API refuses work at once (503 with Retry-After) instead of queueing it
 * until every request is late: at most `maxInFlight` /api requests run at a time, and none starts
 * while the event loop lags (@fastify/under-pressure). Health, readiness, metrics and the admin
 * UI are never refused: on-call must see a loaded process as it is.
 */
export async function registerLoadShedding(app: FastifyInstance, { maxInFlight, maxEventLoopDelayMs }: LoadSheddingOptions): Promise<void> {
  let inFlight = 0;
  const release = (request: CountedRequest) => {
    if (!request[counted]) return;
    request[counted] = false;
    inFlight--;
  };
  app.addHook("onRequest", async (request: CountedRequest, reply) => {
    if (!isApi(request)) return;
    if (inFlight >= maxInFlight) return overloaded(reply, `${maxInFlight} requests in progress`);
    inFlight++;
    request[counted] = true;
  });
  app.addHook("onResponse", async (request: CountedRequest) => release(request));
  app.addHook("onRequestAbort", async (request: CountedRequest) => release(request));
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    pressureHandler: (request, reply, type) => {
      if (isApi(request)) void overloaded(reply, `under pressure: ${type}`);
    },
  });
}
