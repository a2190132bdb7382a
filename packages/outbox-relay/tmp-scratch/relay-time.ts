import { execSync } from "node:child_process";
import { Database, raw } from "../src/sql/index.ts";
import { migrate } from "../src/schema/index.ts";
import { createQueues, createRedis, enqueueEvents } from "../src/queues/index.ts";
import { readRelayStep, moveCursor } from "../src/relay/cursor.ts";
import { nextCursor } from "../src/relay/relay.ts";
import { orderEvents } from "../../domain/src/index.ts";

const name = `relaytime_${process.pid}`;
execSync(`createdb -h localhost -U postgres ${name}`);
const url = `postgres://postgres@localhost:5432/${name}`;
const db = new Database(url, { poolSize: 4 });
await migrate(url);
await db.execute({ text: `INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, tenant_id, payload)
  SELECT gen_random_uuid(), 'TenantCreated', 'tenant', 'bench-' || g, 'bench-' || g,
  jsonb_build_object('tenantId', 'bench-' || g, 'name', 'Bench', 'slug', 'bench-' || g, 'createdAt', '2026-01-01T00:00:00Z') FROM generate_series(1, 50000) g`, values: [] } as never);
await db.execute(raw("ANALYZE event_outbox"));
const redis = createRedis({ url: "redis://localhost:6379" }, "producer");
await new Promise((r) => redis.once("ready", r));
const queues = createQueues(redis, `relaytime-${process.pid}`, orderEvents, { eventsPerJob: Number(process.env.EPJ ?? 100) });
const size = Number(process.env.SIZE ?? 500);
let read = 0, q = 0, mv = 0, commit = 0, total = 0;
const t0 = performance.now();
for (;;) {
  const a = performance.now();
  const conn = await db.connect();
  await conn.run("BEGIN");
  const step = await readRelayStep(conn, "default", size);
  const b = performance.now();
  const rows = step!.rows;
  await enqueueEvents(queues, rows.filter((r) => !r.held));
  const c = performance.now();
  const next = nextCursor(step!.cursor, rows, false);
  if (rows.length) await moveCursor(conn, "default", next.position, next.watched);
  const d = performance.now();
  await conn.run("COMMIT"); conn.release();
  const e = performance.now();
  read += b - a; q += c - b; mv += d - c; commit += e - d; total += rows.length;
  if (rows.length < size) break;
}
const secs = (performance.now() - t0) / 1000;
console.log({ size, rows: total, perSecond: Math.round(total / secs), readMs: Math.round(read), enqueueMs: Math.round(q), moveMs: Math.round(mv), commitMs: Math.round(commit) });
const { markProcessed } = await import("../src/outbox/state-machine.ts");
const ids = (await db.query<{ id: string }>(raw("SELECT id::text AS id FROM event_outbox ORDER BY sequence"))).map((r) => r.id);
const m0 = performance.now();
for (let i = 0; i < ids.length; i += 500) await db.transaction((tx) => markProcessed(tx, ids.slice(i, i + 500)));
console.log({ markPerSecond: Math.round(ids.length / ((performance.now() - m0) / 1000)) });
await queues.events.obliterate({ force: true }).catch(() => 0);
await queues.close(); redis.disconnect(); await db.close();
execSync(`dropdb -h localhost -U postgres ${name}`);
