export { postgresCheck, redisCheck } from "./checks.ts";
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
