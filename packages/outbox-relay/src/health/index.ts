export { postgresCheck, redisCheck } from "./checks.ts";
export { redisProbe, watchDependency, watchPostgres, watchRedis, type DependencyWatch, type DependencyWatchOptions, type RedisWatchOptions } from "./dependencies.ts";
export { describeConnectionError } from "./describe.ts";
export {
  defaultCheckTimeoutMs,
  healthRoutes,
  readinessOf,
  runCheck,
  runChecks,
  startHealthServer,
  type HealthCheck,
  type HealthRoutesOptions,
  type HealthServerOptions,
  type RunningHealthServer,
} from "./health-server.ts";
export { NotReadyError } from "./not-ready.ts";
export { routeAccesses, type RouteAccess } from "./route-access.ts";
