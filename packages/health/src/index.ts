export { postgresCheck, redisCheck } from "./checks.ts";
export { runCheck, startHealthServer, type HealthCheck, type HealthServerOptions, type RunningHealthServer } from "./health-server.ts";
