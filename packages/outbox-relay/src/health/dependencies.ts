import { addLogFilter, type Logger } from "../logger/index.ts";
import { isRedisConnectionError, isSocketError, redisPorts, type RedisConnection, type RedisSettings } from "../queues/index.ts";
import { isPostgresConnectionError, postgresPort, sql, type Queryable } from "../sql/index.ts";
import { describeConnectionError } from "./describe.ts";

export interface DependencyWatchOptions {
  /** How on-call names it: "redis", "postgres". */
  name: string;
  logger: Logger;
  /** True for an error that says this dependency cannot be reached (not that one command failed). */
  owns: (error: unknown) => boolean;
  /** Asks it for an answer (PING, SELECT 1); run every `probeIntervalMs` while it is down. */
  probe: () => Promise<unknown>;
  probeIntervalMs?: number;
  /** How long a probe may take before it counts as failed. */
  probeTimeoutMs?: number;
}

export interface DependencyWatch {
  readonly name: string;
  /** Whether it is known to be unreachable. */
  readonly down: boolean;
  /** Why, in plain words ("connection refused"), while it is down. */
  readonly reason: string | undefined;
  /** Reports an error seen talking to it; an error it owns marks it down. Returns whether it owned it. */
  failed(error: unknown): boolean;
  /** Reports that it answered: marks it back up when it was down. */
  ok(): void;
  /** Resolves once it answers (at once when it is up); probes it until then. */
  reachable(): Promise<void>;
  stop(): void;
}

/**
 * One dependency's reachability, for on-call: one warning when it goes away (`<name> unreachable
 * (<reason>)`) and one when it is back (`<name> is back`, with how long it was away), whatever the
 * number of connections, retries and components that notice. While it is down, log lines at warn
 * and above whose error it owns are dropped (the components keep retrying; their errors would say
 * the same thing once per retry, with a stack each), and it is probed every `probeIntervalMs` to
 * notice that it is back.
 */
export function watchDependency({ name, logger, owns, probe, probeIntervalMs = 1000, probeTimeoutMs = 2000 }: DependencyWatchOptions): DependencyWatch {
  let down = false;
  let reason: string | undefined;
  let downSince = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const waiters: (() => void)[] = [];

  const markDown = (error: unknown) => {
    if (down) return;
    down = true;
    downSince = Date.now();
    reason = describeConnectionError(error);
    logger.warn({ dependency: name, reason }, `${name} unreachable (${reason}); waiting for it to come back`);
    scheduleProbe();
  };
  /** One probe; a failure marks it down when `anyFailure` (the first check at start), else only an error it owns does. */
  const probeOnce = async (anyFailure: boolean) => {
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe(),
        new Promise((_, reject) => {
          deadline = setTimeout(() => reject(new Error(`no answer within ${probeTimeoutMs} ms`)), probeTimeoutMs);
        }),
      ]);
      watch.ok();
    } catch (error) {
      if (anyFailure) markDown(error);
      else watch.failed(error);
    } finally {
      clearTimeout(deadline);
    }
  };
  const scheduleProbe = () => {
    if (stopped || timer || !down) return;
    timer = setTimeout(() => {
      timer = undefined;
      void probeOnce(false).finally(scheduleProbe);
    }, probeIntervalMs);
    timer.unref();
  };

  const watch: DependencyWatch = {
    name,
    get down() {
      return down;
    },
    get reason() {
      return reason;
    },
    failed(error) {
      if (!owns(error)) return false;
      markDown(error);
      return true;
    },
    ok() {
      if (down) {
        down = false;
        const downForMs = Date.now() - downSince;
        reason = undefined;
        logger.warn({ dependency: name, downForMs }, `${name} is back after ${(downForMs / 1000).toFixed(1)} s`);
      }
      for (const resolve of waiters.splice(0)) resolve();
    },
    async reachable() {
      if (!down) await probeOnce(true);
      if (!down) return;
      await new Promise<void>((resolve) => waiters.push(resolve));
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      removeFilter();
      for (const resolve of waiters.splice(0)) resolve();
    },
  };

  const removeFilter = addLogFilter(logger, (fields, level) => {
    if (level < 40) return false;
    const error = fields.err ?? fields.error;
    return error !== undefined && watch.failed(error);
  });
  return watch;
}

/**
 * A PING on `connection` that first waits for its connection attempt to end (a connection being
 * made fails a PING at once, saying nothing), and fails with why the connection failed
 * ("connect ECONNREFUSED ...") rather than "Connection is closed.".
 */
export function redisProbe(connection: RedisConnection): () => Promise<unknown> {
  let lastError: Error | undefined;
  connection.on("error", (error: Error) => (lastError = error));
  connection.on("ready", () => (lastError = undefined));
  return async () => {
    if (connection.status === "connecting" || connection.status === "connect" || connection.status === "wait") {
      await new Promise<void>((resolve) => {
        const done = () => {
          connection.off("ready", done);
          connection.off("error", done);
          resolve();
        };
        connection.on("ready", done);
        connection.on("error", done);
      });
    }
    try {
      return await connection.ping();
    } catch (error) {
      throw lastError ?? error;
    }
  };
}

export interface RedisWatchOptions {
  /** Every connection of the process to watch: their errors mark Redis down, their `ready` back up. */
  connections: RedisConnection[];
  /** The connection to PING while Redis is down: a producer one (it fails at once). */
  probeWith: RedisConnection;
  settings: RedisSettings;
  logger: Logger;
  probeIntervalMs?: number;
}

/** Redis as a dependency: owns ioredis' connection errors and socket errors on Redis' ports; probed with PING. */
export function watchRedis({ connections, probeWith, settings, logger, probeIntervalMs }: RedisWatchOptions): DependencyWatch {
  const ports = redisPorts(settings);
  const watch = watchDependency({
    name: "redis",
    logger,
    owns: (error) => isRedisConnectionError(error, ports),
    probe: redisProbe(probeWith),
    ...(probeIntervalMs ? { probeIntervalMs } : {}),
  });
  for (const connection of connections) {
    connection.on("error", (error: Error) => {
      // Every error event needs a listener (ioredis prints an unhandled one, with its stack); one
      // that is not a connection failure (a cluster's slot refresh, say) is still worth a line. A
      // reset of an open socket names no port: the reconnect's refusal, or the closed connection,
      // reports the outage next.
      if (watch.failed(error)) return;
      if (isSocketError(error)) logger.debug({ err: error, dependency: "redis" }, "redis socket failed");
      else logger.warn({ err: error, dependency: "redis" }, "redis connection error");
    });
    connection.on("ready", () => watch.ok());
  }
  return watch;
}

/** Postgres as a dependency: owns pg's connection errors and socket errors on Postgres' port; probed with SELECT 1. */
export function watchPostgres(db: Queryable, databaseUrl: string, logger: Logger, options: { probeIntervalMs?: number } = {}): DependencyWatch {
  const ports = [postgresPort(databaseUrl)];
  return watchDependency({
    name: "postgres",
    logger,
    owns: (error) => isPostgresConnectionError(error, ports),
    probe: () => db.query(sql`SELECT 1`),
    ...options,
  });
}
