// The API and the worker in one process, end to end: open a ticket, wait for the handler to triage
// it, look at the outbox through the admin API, stop.
import { setTimeout as sleep } from "node:timers/promises";
import { PrismaPg } from "@prisma/adapter-pg";
import { startWorker } from "outbox-relay";
import { buildApp } from "./app.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { events, handlers } from "./tickets.ts";

const { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix = "tickets", ADMIN_TOKEN: adminToken } = process.env;
if (!databaseUrl || !redisUrl) throw new Error("Set DATABASE_URL and REDIS_URL");
if (!adminToken || adminToken.length < 32) throw new Error("ADMIN_TOKEN: set a long random secret");

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
const app = await buildApp({ prisma, databaseUrl, redisUrl, queuePrefix, adminToken });
// Handlers run in the client's interactive transactions: `tx.ticket` commits with the processed mark.
const worker = await startWorker({ catalog: events, handlers, prisma, databaseUrl, redisUrl, queuePrefix });
try {
  const api = await app.listen({ host: "127.0.0.1", port: 0 });
  const opened = await fetch(`${api}/tickets`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ title: "Checkout is down" }) });
  if (opened.status !== 201) throw new Error(`POST /tickets answered ${opened.status}: ${await opened.text()}`);
  const { id } = (await opened.json()) as { id: string };

  let ticket = { status: "open", priority: null as string | null };
  for (let waitedMs = 0; ticket.status !== "triaged"; waitedMs += 100) {
    if (waitedMs > 30_000) throw new Error("The handler did not triage the ticket within 30 s");
    await sleep(100);
    ticket = (await (await fetch(`${api}/tickets/${id}`)).json()) as typeof ticket;
  }
  console.log(`Ticket ${id} triaged, priority ${ticket.priority}`);

  // The admin API answers the token's holder only.
  for (const [who, headers] of [["without", {}], ["with", { authorization: `Bearer ${adminToken}` }]] as const) {
    const stats = await fetch(`${api}/admin/api/stats`, { headers });
    console.log(`GET /admin/api/stats ${who} the token: ${stats.status} ${await stats.text()}`);
  }
} finally {
  await worker.stop();
  await app.close();
  await prisma.$disconnect();
}
