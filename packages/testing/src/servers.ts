import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { waitFor } from "./wait.ts";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

function redisServer(port: number, dir: string, extra: string[] = []) {
  return spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extra], {
    stdio: "ignore",
  });
}

function pings(port: number): boolean {
  return spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout.trim() === "PONG";
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills the server (nothing is kept: it starts empty again). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A redis-server of the caller's own on a free loopback port, for tests that flush, stop or restart Redis. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "outbox-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  let child: ReturnType<typeof redisServer> | undefined;
  const start = async () => {
    mkdirSync(dir, { recursive: true });
    child = redisServer(port, dir);
    await waitFor(() => answers(url), { message: `redis-server on port ${port}` });
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      });
      child.kill("SIGKILL");
    });
  await start();
  return { url, port, start, stop };
}

export interface RedisCluster {
  /** host:port,host:port,host:port, as REDIS_CLUSTER_NODES takes it. */
  nodes: string;
  stop(): Promise<void>;
}

/** A three-master Redis Cluster of redis-server processes on loopback ports, no replicas. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "outbox-cluster-"));
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = ports.map((port) => redisServer(port, dir, ["--cluster-enabled", "yes", "--cluster-config-file", path.join(dir, `${port}.conf`)]));
  await waitFor(() => ports.every(pings));
  const create = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8" });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  await waitFor(() => ports.every((port) => /cluster_state:ok/.test(spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8" }).stdout)));
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    async stop() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise((resolve) => {
              server.once("exit", resolve);
              server.kill("SIGKILL");
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
