import { Cluster, Redis, type RedisOptions } from "ioredis";

export interface RedisSettings {
  url: string;
  /** host:port,host:port of a Redis Cluster; when set, `url` supplies only credentials and TLS. */
  clusterNodes?: string;
}

export type RedisConnection = Redis | Cluster;

/**
 * - `worker`: blocks on Redis and retries forever (`maxRetriesPerRequest: null`, commands wait
 *   while Redis is away);
 * - `producer` (the API, readiness checks): fails fast so that a request never hangs on a Redis
 *   that is down, and reconnects in the background;
 * - `command` (the CLI): fails fast and gives up reconnecting after a few attempts (about a
 *   second), so a one-off command ends with the reason instead of waiting.
 */
export type RedisRole = "worker" | "producer" | "command";

const commandAttempts = 3;

export function createRedis(settings: RedisSettings, role: RedisRole): RedisConnection {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === "worker" ? null : 1,
    enableOfflineQueue: role === "worker",
    connectionName: `outbox-${role === "command" ? "cli" : role}`,
    ...(role === "command" ? { retryStrategy: (times: number) => (times > commandAttempts ? null : 100 * times), connectTimeout: 2000, disconnectTimeout: 100 } : {}),
  };
  if (!settings.clusterNodes) return new Redis(settings.url, options);
  const url = new URL(settings.url);
  return new Cluster(clusterNodesOf(settings), {
    redisOptions: {
      ...options,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    },
    enableOfflineQueue: role === "worker",
    ...(role === "command" ? { clusterRetryStrategy: (times: number) => (times > commandAttempts ? null : 100 * times) } : {}),
  });
}

function clusterNodesOf(settings: RedisSettings): { host: string; port: number }[] {
  return (settings.clusterNodes ?? "").split(",").map((node) => {
    const [host, port] = node.split(":");
    return { host: host!, port: Number(port) };
  });
}

/** The ports Redis listens on for these settings (the URL's, or every cluster node's). */
export function redisPorts(settings: RedisSettings): number[] {
  if (settings.clusterNodes) return clusterNodesOf(settings).map((node) => node.port);
  return [Number(new URL(settings.url).port || 6379)];
}

const redisClientMessages = /Connection is closed|Stream isn't writeable and enableOfflineQueue|Reached the max retries per request limit|None of startup nodes is available|Failed to refresh slots cache|All sentinels are unreachable/;
const socketCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * True when `error` is a socket's own failure (a reset, a broken pipe), with or without the port it
 * happened on: a read or write error of a connection that was open carries none. Only an error a
 * Redis connection emitted may be read as Redis': a receiver's reset looks the same.
 */
export function isSocketError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && socketCodes.has(code);
}

/**
 * True when `error` says Redis could not be reached (not that a command failed): one of ioredis'
 * own connection messages, or a socket error on one of `ports` (the error, its cause, or an
 * AggregateError's errors).
 */
export function isRedisConnectionError(error: unknown, ports: readonly number[]): boolean {
  const seen = [error];
  for (let i = 0; i < seen.length && i < 12; i++) {
    const e = seen[i] as { code?: unknown; port?: unknown; message?: unknown; name?: unknown; cause?: unknown; errors?: unknown } | null;
    if (e === null || typeof e !== "object") continue;
    if (typeof e.message === "string" && redisClientMessages.test(e.message)) return true;
    if (e.name === "MaxRetriesPerRequestError" || e.name === "ClusterAllFailedError") return true;
    if (typeof e.code === "string" && socketCodes.has(e.code) && typeof e.port === "number" && ports.includes(e.port)) return true;
    if (e.cause !== undefined) seen.push(e.cause);
    if (Array.isArray(e.errors)) seen.push(...(e.errors as unknown[]));
  }
  return false;
}
