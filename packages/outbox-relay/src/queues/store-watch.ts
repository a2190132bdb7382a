import { randomUUID } from "node:crypto";
import type { RedisConnection } from "./connection.ts";

export interface StoreWatchOptions {
  connection: RedisConnection;
  prefix: string;
  /** How often the marker is checked. */
  intervalMs: number;
  /** Called when the marker was gone: Redis lost its data (or this process was away for a minute). */
  onLoss: () => void;
  onError?: (error: Error) => void;
}

export interface StoreWatch {
  stop(): void;
}

/** The marker outlives many missed checks, so only a lost store (or a process stalled this long) misses it. */
const markerTtlMs = 60_000;

/**
 * Notices at once that the queue store lost its data: a FLUSHDB or FLUSHALL, a restart of a Redis
 * that keeps nothing on disk, a failover to an empty replica. Nothing tells a client about these
 * (a flush does not even close a connection), so this process keeps a marker key of its own and
 * checks it every `intervalMs` (SET ... XX: one round trip that fails when the key is gone), and
 * again whenever the connection comes back. A missing marker is set again and reported once.
 */
export function watchQueueStore({ connection, prefix, intervalMs, onLoss, onError }: StoreWatchOptions): StoreWatch {
  const key = `${prefix}:store-marker:${randomUUID()}`;
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const kept = await connection.set(key, "1", "PX", markerTtlMs, "XX");
      if (kept === null) {
        await connection.set(key, "1", "PX", markerTtlMs);
        onLoss();
      }
    } catch (error) {
      onError?.(error as Error);
    } finally {
      checking = false;
    }
  };
  const onReady = () => void check();
  void connection.set(key, "1", "PX", markerTtlMs).catch((error: Error) => onError?.(error));
  const timer = setInterval(() => void check(), intervalMs);
  connection.on("ready", onReady);
  return {
    stop() {
      clearInterval(timer);
      connection.off("ready", onReady);
      void connection.del(key).catch(() => undefined);
    },
  };
}
