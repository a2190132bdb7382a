import { randomUUID } from "node:crypto";
import { createRedis } from "../src/queues/index.ts";
const redis = createRedis({ url: "redis://localhost:6379" }, "producer");
await new Promise((r) => redis.once("ready", r));
const key = `x-${process.pid}`;
for (const mode of ["object", "flat", "fresh-key", "set-batch"]) {
  let t = 0;
  for (let r = 0; r < 100; r++) {
    const ids = Array.from({ length: 500 }, () => randomUUID());
    const a = performance.now();
    if (mode === "object") await redis.hset(key, Object.fromEntries(ids.map((id) => [id, "batch-" + r])));
    else if (mode === "flat") await redis.hset(key, ...ids.flatMap((id) => [id, "batch-" + r]));
    else if (mode === "fresh-key") await redis.hset(key + r, ...ids.flatMap((id) => [id, "batch-" + r]));
    else await redis.set(key + "s" + r, ids.join(","));
    t += performance.now() - a;
  }
  console.log(mode, (t / 100).toFixed(2), "ms per 500");
}
const keys = await redis.keys(`x-${process.pid}*`); if (keys.length) await redis.del(...keys);
redis.disconnect();
