export { createMetrics, webhookResultOf, type CreateMetricsOptions, type Metrics } from "./metrics.ts";
