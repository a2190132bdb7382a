import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { percentile } from "../measure.ts";
import type { BenchSetup } from "../setup.ts";
import { sampleLag } from "./steady.ts";

const root = path.resolve(import.meta.dirname, "../../..");

export interface ApiLoadResult {
  rate: number;
  seconds: number;
  orders: number;
  failedRequests: number;
  /** Answers other than 201, by status code (0: no answer). */
  failures: Record<string, number>;
  httpP50Ms: number;
  httpP99Ms: number;
  /** processed_at − created_at of the OrderCreated rows: the API's commit to the handler's transaction. */
  commitToHandledP50Ms: number;
  commitToHandledP95Ms: number;
  commitToHandledP99Ms: number;
  lagP50Ms: number;
  lagMaxMs: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs an app from its bundle, as `pnpm start` does (scripts/build.mjs builds what is stale). */
function startApp(bundle: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--enable-source-maps", path.join(root, bundle)], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The real API and worker processes; orders posted over HTTP at a fixed rate. */
export async function apiLoad(setup: BenchSetup, rate: number, seconds: number): Promise<ApiLoadResult> {
  await setup.reset();
  const [apiPort, workerPort] = [await freePort(), await freePort()];
  const env = setup.env({ PORT: String(apiPort), WORKER_PORT: String(workerPort), HOST: "127.0.0.1" });
  const build = spawnSync(process.execPath, [path.join(root, "scripts/build.mjs")], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build.mjs failed");
  const processes = [startApp("apps/api/dist/main.js", env), startApp("apps/worker/dist/main.js", env)];
  try {
    const base = `http://127.0.0.1:${apiPort}`;
    for (let i = 0; ; i++) {
      const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (i > 200) throw new Error("the API did not become ready");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const tenant = await post(`${base}/api/tenants`, { name: "Bench", slug: `bench-${Date.now()}` });
    const tenantId = tenant.json.id as string;
    const seller = await post(`${base}/api/users`, { tenantId, email: "seller@example.com", role: "seller" });
    const customer = await post(`${base}/api/users`, { tenantId, email: "buyer@example.com", role: "customer" });
    const product = await post(`${base}/api/products`, { tenantId, sellerId: seller.json.id, categoryId: "bench", name: "Widget", price: 500, stock: 10_000_000 });
    const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1 9GU", country: "GB" };
    const order = { tenantId, customerId: customer.json.id, customerEmail: "buyer@example.com", items: [{ productId: product.json.id, quantity: 1, unitPrice: 500 }], shippingAddress: address };

    const lag = sampleLag(setup.prisma);
    const httpMs: number[] = [];
    const failures: Record<string, number> = {};
    const fail = (status: number) => (failures[status] = (failures[status] ?? 0) + 1);
    const inFlight: Promise<unknown>[] = [];
    const started = Date.now();
    for (let tick = 0; tick < seconds * 100; tick++) {
      // Whole requests per 10 ms tick, carrying the remainder, so any rate is kept on average.
      const due = Math.floor(((tick + 1) * rate) / 100) - Math.floor((tick * rate) / 100);
      for (let i = 0; i < due; i++) {
        const sent = performance.now();
        inFlight.push(
          post(`${base}/api/orders`, order).then(
            ({ status }) => (status === 201 ? httpMs.push(performance.now() - sent) : fail(status)),
            () => fail(0),
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (tick + 1) * 10 - Date.now())));
    }
    await Promise.all(inFlight);
    for (;;) {
      const pending = await setup.prisma.eventOutbox.count({ where: { eventType: "OrderCreated", status: { not: "processed" } } });
      if (pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const lags = lag.stop();
    const rows = await setup.prisma.$queryRaw<{ ms: number }[]>`
      SELECT (extract(epoch FROM processed_at - created_at) * 1000)::float8 AS ms FROM event_outbox WHERE event_type = 'OrderCreated' ORDER BY 1`;
    const handled = rows.map((row) => row.ms);
    httpMs.sort((a, b) => a - b);
    return {
      rate,
      seconds,
      orders: handled.length,
      failedRequests: Object.values(failures).reduce((sum, n) => sum + n, 0),
      failures,
      httpP50Ms: percentile(httpMs, 50),
      httpP99Ms: percentile(httpMs, 99),
      commitToHandledP50Ms: percentile(handled, 50),
      commitToHandledP95Ms: percentile(handled, 95),
      commitToHandledP99Ms: percentile(handled, 99),
      lagP50Ms: percentile(lags, 50),
      lagMaxMs: lags.at(-1) ?? 0,
    };
  } finally {
    await Promise.all(processes.map((child) => new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGTERM");
    })));
  }
}
