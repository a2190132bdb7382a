import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { testServers } from "./test-servers.ts";

/** The Redis tests use (testServers); each run keeps its keys under a prefix of its own. */
export const redisUrl = testServers().redis;

export interface TestRedis {
  url: string;
  /** A queue prefix no other run uses. */
  prefix: string;
  /** Deletes every key under the prefix. */
  clean(): Promise<void>;
}

export function createTestRedis(): TestRedis {
  const prefix = `outbox-test-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  return { url: redisUrl, prefix, clean: () => deleteKeys(`${prefix}:*`) };
}

export async function deleteKeys(pattern: string, url = redisUrl): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
