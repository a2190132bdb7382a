import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { migrate, startWorker } from "outbox-relay";
import pg from "pg";
import { events, handlers } from "./greetings.ts";

const { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix = "greetings" } = process.env;
if (!databaseUrl || !redisUrl) throw new Error("Set DATABASE_URL and REDIS_URL");
const pool = new pg.Pool({ connectionString: databaseUrl });

// The engine's tables (its pending migrations) and the service's own.
await migrate(databaseUrl);
await pool.query(await readFile(new URL("../schema.sql", import.meta.url), "utf8"));

// The business change and its event commit together, or neither does.
const greetingId = randomUUID();
const client = await pool.connect();
try {
  await client.query("BEGIN");
  await client.query("INSERT INTO greetings (id, name) VALUES ($1, $2)", [greetingId, "Ada"]);
  await events.publish(client, { type: "GreetingRequested", payload: { greetingId, name: "Ada" } });
  await client.query("COMMIT");
} catch (error) {
  await client.query("ROLLBACK");
  throw error;
} finally {
  client.release();
}

// The worker relays the event through Redis to its handler.
const worker = await startWorker({ catalog: events, handlers, databaseUrl, redisUrl, queuePrefix });
try {
  const greeted = async () => (await pool.query("SELECT 1 FROM greetings WHERE id = $1 AND greeted_at IS NOT NULL", [greetingId])).rowCount;
  for (let waitedMs = 0; !(await greeted()); waitedMs += 100) {
    if (waitedMs > 30_000) throw new Error("The handler did not run within 30 s");
    await sleep(100);
  }
  console.log(`Greeted ${greetingId}`);
} finally {
  await worker.stop();
  await pool.end();
}
