import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { createRedis } from "../src/queues/index.ts";
const redis = createRedis({ url: "redis://localhost:6379" }, "producer");
await new Promise((r) => redis.once("ready", r));
const q = new Queue("events", { connection: redis, prefix: `addtime-${process.pid}` });
const ev = (i: number) => ({ id: randomUUID(), type: "TenantCreated", payload: { tenantId: "bench-" + i, name: "Bench", slug: "bench-" + i, createdAt: "2026-01-01T00:00:00Z" }, aggregateType: "tenant", aggregateId: "bench-" + i, tenantId: "bench-" + i, createdAt: new Date().toISOString(), previousAttempts: 0 });
const per = Number(process.env.PER ?? 100);
let tAdd = 0, tH = 0;
for (let r = 0; r < 100; r++) {
  const events = Array.from({ length: 500 }, (_, i) => ev(i));
  const jobs = [];
  for (let s = 0; s < 500; s += per) jobs.push({ name: "batch", data: { events: events.slice(s, s + per) }, opts: { jobId: "batch-" + randomUUID(), priority: 5, attempts: 3, removeOnComplete: { count: 100 } } });
  const a = performance.now();
  await redis.hset(`x-${process.pid}`, Object.fromEntries(events.map((e) => [e.id, "batch-x"])));
  const b = performance.now();
  await q.addBulk(jobs);
  tAdd += performance.now() - b; tH += b - a;
}
console.log({ per, addMsPer500: (tAdd / 100).toFixed(2), hsetMsPer500: (tH / 100).toFixed(2) });
await q.obliterate({ force: true }); await redis.del(`x-${process.pid}`); await q.close(); redis.disconnect();
