import type { FastifyPluginAsync, FastifySchema } from "fastify";
import { z } from "zod";
import { healthRoutes, type HealthRoutesOptions } from "outbox-relay/fastify";

const checks = z.record(z.string(), z.string()).meta({ description: 'each check: "ok" or "unreachable (<reason in plain words>)"', examples: [{ postgres: "ok", redis: "ok" }] });

/** The schemas of outbox-relay/health's routes (the worker serves the same routes, undocumented). */
const documented: Record<string, FastifySchema> = {
  "/healthz": {
    summary: "Liveness",
    response: { 200: z.object({ status: z.literal("ok") }).meta({ description: "The process runs" }) },
  },
  "/readyz": {
    summary: "Readiness: Postgres and Redis answer",
    response: {
      200: z.object({ status: z.literal("ready"), checks }).meta({ description: "Every check answered" }),
      503: z.object({ status: z.literal("not ready"), error: z.string(), checks }).meta({ description: "A check failed; `error` names it in plain words" }),
    },
  },
  "/metrics": {
    summary: "Prometheus metrics",
    response: { 200: { description: "Prometheus text exposition", content: { "text/plain": { schema: z.string() } } } },
  },
};

/** outbox-relay/health's routes with their schemas attached as they are added, so /docs/json lists them. */
export const documentedHealthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, options) => {
  app.addHook("onRoute", (route) => {
    const schema = documented[route.url];
    if (schema && route.method !== "HEAD") route.schema = { ...schema, ...route.schema };
  });
  await app.register(healthRoutes, options);
};
