export { outboxAdminPlugin, type OutboxAdminPluginOptions } from "./plugin.ts";
export { changesState, sameOrigin } from "./same-origin.ts";
export { portalPlugin, type PortalPluginOptions } from "./portal/plugin.ts";
export {
  healthRoutes,
  postgresCheck,
  readinessOf,
  redisCheck,
  routeAccesses,
  watchPostgres,
  watchRedis,
  type DependencyWatch,
  type HealthCheck,
  type HealthRoutesOptions,
  type RouteAccess,
} from "../health/index.ts";
export { createMetrics, type Metrics } from "../metrics/index.ts";
export { schemaCheck } from "../schema/index.ts";
