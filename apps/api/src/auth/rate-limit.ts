import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { RedisConnection } from "outbox-relay";
import { ApiError } from "../errors.ts";

export interface RateLimitOptions {
  /** API_RATE_LIMIT_MAX requests per tenant (all its keys together) in each window of API_RATE_LIMIT_WINDOW_MS. */
  max: number;
  windowMs: number;
  /** With API_RATE_LIMIT_STORE=redis: counts shared by every API process, under `prefix`. */
  redis?: { connection: RedisConnection; prefix: string };
}

/** The tenant a request counts against: every key of a tenant shares one count, so minting keys buys no requests. */
const limitedTenant = (request: FastifyRequest) => (request.caller?.kind === "tenant" ? request.caller.tenantId : undefined);

/**
 * Each tenant gets `max` requests per window over all its keys (@fastify/rate-limit, after authentication): past it,
 * 429 with Retry-After (seconds until the window ends) and the RateLimit headers. The admin and
 * the routes outside /api are not limited. With the Redis store, a Redis that does not answer lets
 * requests through rather than refusing them.
 */
export async function registerRateLimit(app: FastifyInstance, { max, windowMs, redis }: RateLimitOptions): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    hook: "onRequest",
    max,
    timeWindow: windowMs,
    ...(redis ? { redis: redis.connection, nameSpace: `${redis.prefix}:api-rate-limit:`, skipOnError: true } : {}),
    allowList: (request) => limitedTenant(request) === undefined,
    keyGenerator: (request) => limitedTenant(request) ?? request.ip,
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, "RATE_LIMITED", `this tenant's API keys made more than ${context.max} requests in ${windowMs / 1000} s; retry in ${context.after}`),
  });
}
