export { backoffStrategy, eventBackoffType, nextRunDelayMs, retryAfterOf, retryDelayMs, retryDelayOf, type RetryAfterHint, type RetryDelay, type RetryingJob } from "./backoff.ts";
export { createRedis, isRedisConnectionError, isSocketError, redisPorts, type RedisConnection, type RedisRole, type RedisSettings } from "./connection.ts";
export { batchesOf, batchJobName, forgetBatchMembers, ownJobOf, type BatchedEvent, type BatchJobData } from "./batch.ts";
export { enqueueEvents, toJob, type EnqueueOptions } from "./enqueue.ts";
export { watchQueueStore, type StoreWatch, type StoreWatchOptions } from "./store-watch.ts";
export {
  createQueues,
  jobOptions,
  jobRetention,
  groupByQueue,
  queueOf,
  queuePrefix,
  type DeadLetterJobData,
  type EventJobData,
  type FailedInBatch,
  type QueueName,
  type QueueSet,
} from "./queues.ts";
