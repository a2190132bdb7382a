import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "ioredis";
import { startRedisCluster, type RedisCluster } from "@outbox/testing";
import { effectsPerEvent, publishAll, setupPipeline, startTestWorker, tenantEvent, waitForStatus, type PipelineEnv } from "./helpers.ts";

describe("on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let pipeline: PipelineEnv;

  beforeAll(async () => {
    cluster = await startRedisCluster();
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
