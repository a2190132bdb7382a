import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "ioredis";
import { waitFor } from "@outbox/testing";
import { effectsPerEvent, freePort, publishAll, setupPipeline, startTestWorker, tenantEvent, waitForStatus, type PipelineEnv } from "./helpers.ts";

/** A three-master Redis Cluster of redis-server processes on loopback, made and removed by this test. */
async function startCluster(): Promise<{ nodes: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "outbox-cluster-"));
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = ports.map((port) =>
    spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", path.join(dir, `${port}.conf`), "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: "ignore" },
    ),
  );
  await waitFor(() => ports.every((port) => spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout.trim() === "PONG"));
  const create = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8" });
  if (create.status !== 0) throw new Error(`cluster create failed: ${create.stdout}${create.stderr}`);
  await waitFor(() => ports.every((port) => /cluster_state:ok/.test(spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8" }).stdout)));
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    async stop() {
      await Promise.all(servers.map((server) => new Promise((resolve) => {
        server.once("exit", resolve);
        server.kill("SIGKILL");
      })));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("on a Redis Cluster", () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let pipeline: PipelineEnv;

  beforeAll(async () => {
    cluster = await startCluster();
    pipeline = await setupPipeline({ REDIS_CLUSTER_NODES: cluster.nodes });
  });
  afterAll(async () => {
    await pipeline?.cleanup();
    await cluster?.stop();
  });

  it("relays and handles events end to end, each queue's keys in one slot", async () => {
    const worker = await startTestWorker(pipeline);
    try {
      const ids = await publishAll(pipeline.prisma, Array.from({ length: 500 }, () => tenantEvent()));
      await waitForStatus(pipeline.prisma, ids, "processed", 60_000);
      const effects = await effectsPerEvent(pipeline.prisma);
      expect(ids.every((id) => effects.get(id) === 1)).toBe(true);
    } finally {
      await worker.stop();
    }
    const client = new Cluster(cluster.nodes.split(",").map((node) => ({ host: "127.0.0.1", port: Number(node.split(":")[1]) })));
    try {
      await new Promise((resolve) => client.once("ready", resolve));
      const prefix = pipeline.env.QUEUE_PREFIX!;
      const keys = (await Promise.all(client.nodes("master").map((node) => node.keys(`{${prefix}-events}*`)))).flat();
      expect(keys.length).toBeGreaterThan(0);
      const slots = await Promise.all(keys.map((key) => client.cluster("KEYSLOT", key)));
      expect(new Set(slots).size).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
