import { Cluster, Redis, type RedisOptions } from "ioredis";

export interface RedisSettings {
  url: string;
  /** host:port,host:port of a Redis Cluster; when set, `url` supplies only credentials and TLS. */
  clusterNodes?: string;
}

export type RedisConnection = Redis | Cluster;

/**
 * Workers block on Redis and must retry forever (`maxRetriesPerRequest: null`); producers such as
 * the API fail fast so that a request never hangs on a Redis that is down.
 */
export function createRedis(settings: RedisSettings, role: "worker" | "producer"): RedisConnection {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === "worker" ? null : 1,
    enableOfflineQueue: role === "worker",
    connectionName: `outbox-${role}`,
  };
  if (!settings.clusterNodes) return new Redis(settings.url, options);
  const url = new URL(settings.url);
  const nodes = settings.clusterNodes.split(",").map((node) => {
    const [host, port] = node.split(":");
    return { host: host!, port: Number(port) };
  });
  return new Cluster(nodes, {
    redisOptions: {
      ...options,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    },
    enableOfflineQueue: role === "worker",
  });
}
