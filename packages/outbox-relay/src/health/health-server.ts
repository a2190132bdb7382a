import Fastify, { type FastifyPluginAsync } from "fastify";
import { describeConnectionError } from "./describe.ts";
import { mayReadMetrics } from "./metrics-access.ts";
import { NotReadyError } from "./not-ready.ts";
import type {} from "./route-access.ts";

export type HealthCheck = () => Promise<unknown>;

export interface HealthServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Each check resolves when its dependency answers; a rejection or a timeout is "not ready". */
  checks: Record<string, HealthCheck>;
  /** Anything with prom-client's Registry shape. */
  registry: { metrics(): Promise<string>; contentType: string };
  /** How long one check may take before it counts as failed. */
  checkTimeoutMs?: number;
  /** METRICS_TOKEN: `Authorization: Bearer <token>` reads /metrics; nobody may without one. */
  metricsToken: string | undefined;
}

export interface RunningHealthServer {
  port: number;
  close(): Promise<void>;
}

/** Runs a check with a deadline; resolves to "ok", a NotReadyError's message, or "unreachable (<reason in plain words>)" (never rejects). */
export async function runCheck(check: HealthCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return "ok";
  } catch (error) {
    return error instanceof NotReadyError ? error.message : `unreachable (${describeConnectionError(error)})`;
  } finally {
    clearTimeout(timer);
  }
}

/** How long one readiness check may take before it counts as failed, unless told otherwise. */
export const defaultCheckTimeoutMs = 2000;

/** Runs every check at once; resolves to each one's state, "ok" or "failed: <reason>" (never rejects). */
export async function runChecks(checks: Record<string, HealthCheck>, timeoutMs = defaultCheckTimeoutMs): Promise<Record<string, string>> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runCheck(checks[name]!, timeoutMs)));
  return Object.fromEntries(names.map((name, i) => [name, results[i]!]));
}

/** The same checks as booleans, for the `outbox_ready{check}` gauge (createMetrics' `readiness`). */
export async function readinessOf(checks: Record<string, HealthCheck>, timeoutMs = defaultCheckTimeoutMs): Promise<Record<string, boolean>> {
  const states = await runChecks(checks, timeoutMs);
  return Object.fromEntries(Object.entries(states).map(([name, state]) => [name, state === "ok"]));
}

export interface HealthRoutesOptions {
  checks: Record<string, HealthCheck>;
  /** Anything with prom-client's Registry shape. */
  registry: { metrics(): Promise<string>; contentType: string };
  checkTimeoutMs?: number;
}

/**
 * The health routes, the same on the API and on the worker:
 * - GET /healthz: 200 {status:"ok"} while the process runs;
 * - GET /readyz: 200 {status:"ready", checks} when every check answers, else 503
 *   {status:"not ready", error:"redis: unreachable (connection refused)", checks:{postgres:"ok",
 *   redis:"unreachable (connection refused)"}}: each failure in plain words (describeConnectionError),
 *   never a driver's internal message nor a credential;
 * - GET /metrics: the registry's Prometheus text.
 * Each route declares who may call it (`config: { access }`): the first two are public, /metrics
 * needs the metrics token (or, on the API, the admin credentials). The API's access hook enforces
 * that; alone (startHealthServer), the token does.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { checks, registry, checkTimeoutMs = defaultCheckTimeoutMs }) => {
  app.get("/healthz", { config: { access: "public" } }, () => ({ status: "ok" }));

  app.get("/readyz", { config: { access: "public" } }, async (_request, reply) => {
    const states = await runChecks(checks, checkTimeoutMs);
    const failed = Object.keys(states).filter((name) => states[name] !== "ok");
    if (failed.length === 0) return { status: "ready", checks: states };
    return reply.status(503).send({ status: "not ready", error: failed.map((name) => `${name}: ${states[name]}`).join("; "), checks: states });
  });

  app.get("/metrics", { config: { access: "metrics" } }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.header("content-type", registry.contentType).send(text);
  });
};

/** The worker's small HTTP listener: only the health routes. */
export async function startHealthServer({ port, host = "0.0.0.0", metricsToken, ...routes }: HealthServerOptions): Promise<RunningHealthServer> {
  const app = Fastify({ logger: false });
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.config.access !== "metrics" || mayReadMetrics(metricsToken, request.headers.authorization)) return;
    return reply.status(401).header("www-authenticate", "Bearer").send({ error: "/metrics needs the metrics token (Authorization: Bearer <METRICS_TOKEN>)", code: "AUTHENTICATION_REQUIRED" });
  });
  await app.register(healthRoutes, routes);
  await app.listen({ port, host });
  const address = app.server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  return { port: boundPort, close: () => app.close() };
}
