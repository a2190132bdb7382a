import { randomBytes } from "node:crypto";
import { fork, spawnSync } from "node:child_process";
import path from "node:path";
import autocannon from "autocannon";
import { bundle } from "../../../scripts/bundle.mjs";
import { freePort } from "@outbox/testing";
import { percentile } from "../measure.ts";
import { root, startApp, stopApp as stop, waitReady } from "../processes.ts";
import type { BenchSetup } from "../setup.ts";

export interface LoadPhase {
  rate: number | null;
  seconds: number;
  ordersPerSecond: number;
  statuses: Record<string, number>;
  /** Connection errors and timeouts: requests that got no answer. */
  dropped: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** The slowest refusal (503 or 429), and whether every refusal carried Retry-After. */
  refusalMaxMs: number;
  refusalsWithRetryAfter: boolean;
}

export interface ApiLoadResult {
  baselineOrdersPerSecond: number;
  capacityOrdersPerSecond: number;
  ratio: number;
  atSixtyPercent: LoadPhase;
  atThreeTimes: LoadPhase;
  accepted: number;
  handled: number;
  halfWritten: number;
}

/** The admin credentials the bench's API is started with (ADMIN_PASSWORD below). */
const adminPassword = randomBytes(18).toString("base64url");
const admin = `Basic ${Buffer.from(`admin:${adminPassword}`).toString("base64")}`;

async function postJson(url: string, body: unknown, authorization: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization }, body: JSON.stringify(body) });
  return (await response.json()) as Record<string, unknown>;
}

/** A tenant (made by the admin, with its API key), a seller, a customer and 20 products with ample stock, through the API. */
async function seed(base: string): Promise<{ authorization: string; orderOf: (n: number) => unknown }> {
  const tenant = await postJson(`${base}/api/tenants`, { name: "Bench", slug: `bench-${Date.now()}` }, admin);
  const tenantId = tenant.id as string;
  const authorization = `Bearer ${tenant.apiKey as string}`;
  const seller = await postJson(`${base}/api/users`, { tenantId, email: "seller@example.com", role: "seller" }, authorization);
  const customer = await postJson(`${base}/api/users`, { tenantId, email: "buyer@example.com", role: "customer" }, authorization);
  const products: string[] = [];
  for (let i = 0; i < 20; i++) {
    const product = await postJson(`${base}/api/products`, { tenantId, sellerId: seller.id, categoryId: "bench", name: `Widget ${i}`, price: 500, stock: 1_000_000_000 }, authorization);
    products.push(product.id as string);
  }
  const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1 9GU", country: "GB" };
  const orderOf = (n: number) => ({
    tenantId,
    customerId: customer.id,
    customerEmail: "buyer@example.com",
    items: [products[n % 20]!, products[(n * 7 + 3) % 20]!].filter((p, k, all) => all.indexOf(p) === k).map((productId) => ({ productId, quantity: 1, unitPrice: 500 })),
    shippingAddress: address,
  });
  return { authorization, orderOf };
}

/** Runs autocannon against POST /api/orders with the tenant's key: closed loop (rate null) or at a fixed overall rate. */
async function load(
  base: string,
  { authorization, orderOf }: { authorization: string; orderOf: (n: number) => unknown },
  { seconds, rate, connections }: { seconds: number; rate: number | null; connections: number },
): Promise<LoadPhase> {
  const bodies = Array.from({ length: 64 }, (_, n) => JSON.stringify(orderOf(n)));
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let refusalMaxMs = 0;
  let refusalsWithRetryAfter = true;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${base}/api/orders`,
        connections,
        duration: seconds,
        ...(rate ? { overallRate: rate } : {}),
        requests: [
          {
            method: "POST",
            headers: { "content-type": "application/json", authorization },
            setupRequest: (request) => ({ ...request, body: bodies[Math.floor(Math.random() * bodies.length)]! }),
            onResponse: (status, _body, _context, headers) => {
              if ((status === 503 || status === 429) && !headers?.["retry-after"]) refusalsWithRetryAfter = false;
            },
          },
        ],
      },
      (error: Error | null, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", (_client, status, _bytes, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      latencies.push(ms);
      if (status === 503 || status === 429) refusalMaxMs = Math.max(refusalMaxMs, ms);
    });
  });
  latencies.sort((a, b) => a - b);
  return {
    rate,
    seconds,
    ordersPerSecond: (statuses["201"] ?? 0) / seconds,
    statuses,
    dropped: result.errors + result.timeouts,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    refusalMaxMs,
    refusalsWithRetryAfter,
  };
}

/**
 * The order API through real HTTP, with the real worker handling the orders: its capacity (closed
 * loop) against a bare Fastify route writing the same rows with pg in one transaction, then 60 s at
 * 60 % of that capacity and 30 s at three times it.
 */
export async function apiLoad(setup: BenchSetup, { seconds = 60, capacitySeconds = 15, connections = 32 } = {}): Promise<ApiLoadResult> {
  await setup.reset();
  const build = spawnSync(process.execPath, [path.join(root, "scripts/build.mjs")], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build.mjs failed");
  const problems = await bundle({ entry: "bench/src/baseline-server.ts", out: "bench/dist/baseline-server.js", owner: "bench" });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  const [apiPort, workerPort, baselinePort] = [await freePort(), await freePort(), await freePort()];
  const env = setup.env({ PORT: String(apiPort), WORKER_PORT: String(workerPort), HOST: "127.0.0.1", API_MAX_IN_FLIGHT: "64", ADMIN_PASSWORD: adminPassword,
    // The bench measures capacity, not the per-tenant limits: one tenant sends every order.
    API_MAX_IN_FLIGHT_PER_TENANT: "64", API_RATE_LIMIT_MAX: "1000000000" });
  const base = `http://127.0.0.1:${apiPort}`;
  const worker = startApp("apps/worker/dist/main.js", env);
  let api = startApp("apps/api/dist/main.js", env);
  try {
    await waitReady(`${base}/readyz`);
    const tenant = await seed(base);
    const capacity = await load(base, tenant, { seconds: capacitySeconds, rate: null, connections });
    await stop(api);

    const baseline = fork(path.join(root, "bench/dist/baseline-server.js"), { env: { ...process.env, DATABASE_URL: setup.dbUrl, PORT: String(baselinePort) }, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    await new Promise((resolve) => baseline.once("message", resolve));
    const bare = await load(`http://127.0.0.1:${baselinePort}`, tenant, { seconds: capacitySeconds, rate: null, connections });
    await stop(baseline);

    api = startApp("apps/api/dist/main.js", env);
    await waitReady(`${base}/readyz`);
    const rate = Math.round(capacity.ordersPerSecond);
    const atSixtyPercent = await load(base, tenant, { seconds, rate: Math.round(rate * 0.6), connections });
    const atThreeTimes = await load(base, tenant, { seconds: 30, rate: rate * 3, connections: 200 });
    const accepted = [capacity, atSixtyPercent, atThreeTimes].reduce((sum, phase) => sum + (phase.statuses["201"] ?? 0), 0);
    await waitForHandled(setup);
    const [counts] = await setup.prisma.$queryRaw<{ handled: number; half: number }[]>`
      SELECT (SELECT count(*)::int FROM event_outbox WHERE event_type = 'OrderCreated' AND status = 'processed') AS handled,
        (SELECT count(*)::int FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)
           OR NOT EXISTS (SELECT 1 FROM event_outbox e WHERE e.aggregate_id = o.id::text AND e.event_type = 'OrderCreated')) AS half`;
    return {
      baselineOrdersPerSecond: bare.ordersPerSecond,
      capacityOrdersPerSecond: capacity.ordersPerSecond,
      ratio: capacity.ordersPerSecond / bare.ordersPerSecond,
      atSixtyPercent,
      atThreeTimes,
      accepted,
      handled: counts!.handled - (bare.statuses["201"] ?? 0),
      halfWritten: counts!.half,
    };
  } finally {
    await Promise.all([stop(api), stop(worker)]);
  }
}

async function waitForHandled(setup: BenchSetup): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const pending = await setup.prisma.eventOutbox.count({ where: { eventType: "OrderCreated", status: { not: "processed" } } });
    if (pending === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("OrderCreated events still unhandled after 2 minutes");
}
