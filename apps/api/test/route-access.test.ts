import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeAccesses } from "../src/auth/caller.ts";
import type { DeclaredRoute } from "../src/auth/route-access.ts";
import { admin, anotherApp, bearer, countRows, seedTenant, startApi, type ApiHarness, type Auth } from "./helpers.ts";

let api: ApiHarness;
let base: URL;
let stranger: Auth;
const metricsToken = `metrics-${randomUUID()}-${randomUUID()}`;

beforeAll(async () => {
  api = await startApi({ queues: true, env: { METRICS_TOKEN: metricsToken } });
  base = new URL(await api.app.listen({ host: "127.0.0.1", port: 0 }));
  stranger = (await seedTenant(api.app)).auth;
});
afterAll(async () => api.close());

interface Answer {
  status: number;
  code: string | undefined;
}

/** A request on a real socket, with its request-target exactly as given (no URL normalisation on the way). */
function send(method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const withBody = body === undefined ? headers : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers };
    const req = httpRequest({ host: base.hostname, port: base.port, method, path: target, headers: withBody }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A concrete path for a route pattern: every parameter an id that exists nowhere. */
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, randomUUID()).replace(/\*$/, "x");

/** Other spellings of a path that some router or proxy treats as the same route. */
function spellings(path: string): string[] {
  const segments = path.split("/").filter(Boolean);
  const first = segments[0]!;
  const encodedLetter = `/%${first.charCodeAt(0).toString(16)}${first.slice(1)}/${segments.slice(1).join("/")}`;
  const encodedUpper = `/%${first.charCodeAt(0).toString(16).toUpperCase()}${first.slice(1)}/${segments.slice(1).join("/")}`;
  return [
    encodedLetter.replace(/\/$/, ""),
    encodedUpper.replace(/\/$/, ""),
    `/${segments.join("//")}`,
    `//${segments.join("/")}`,
    path.toUpperCase(),
    `${path}/`,
    `/${first}/./${segments.slice(1).join("/")}`.replace(/\/$/, ""),
    `/${first}/x/../${segments.slice(1).join("/")}`.replace(/\/$/, ""),
    `${path};x`,
    `${path}?x=1#y`,
    `http://${base.host}${path}`,
    `http://elsewhere.example${path}`,
  ];
}

describe("every route declares who may call it", () => {
  it("each registered route, the docs', Bull Board's and the outbox page's included, declares public, tenant, admin or metrics", () => {
    const routes = api.app.declaredRoutes();
    expect(routes.filter((route) => route.access === undefined)).toEqual([]);
    const accessOf = (method: string, url: string) => routes.find((route) => route.method === method && route.url === url)?.access;
    expect(accessOf("POST", "/api/tenants")).toBe("admin");
    expect(accessOf("GET", "/metrics")).toBe("metrics");
    expect(accessOf("GET", "/healthz")).toBe("public");
    expect(accessOf("GET", "/docs/json")).toBe("public");
    expect(accessOf("GET", "/api/event-types")).toBe("tenant");
    const byPrefix = (prefix: string) => routes.filter((route) => route.url.startsWith(prefix));
    expect(byPrefix("/admin/queues").length).toBeGreaterThan(5);
    expect(byPrefix("/admin/outbox").length).toBeGreaterThan(5);
    expect(byPrefix("/admin/").every((route) => route.access === "admin")).toBe(true);
    expect(byPrefix("/api/").filter((route) => route.url !== "/api/tenants").every((route) => route.access === "tenant")).toBe(true);
    expect(byPrefix("/docs").every((route) => route.access === "public")).toBe(true);
    expect(new Set(routes.map((route) => route.access))).toEqual(new Set(routeAccesses));
  });

  it("an app with a route that declares nothing refuses to start, naming the route", async () => {
    const app = await anotherApp(api);
    app.get("/api/forgotten", () => ({ secret: true }));
    await expect(app.ready()).rejects.toThrow(/declare no access.*GET \/api\/forgotten/);
    await app.close().catch(() => undefined);
  });
});

describe("every spelling of a path the router accepts gets the plain spelling's answer", () => {
  const callers: Record<string, () => Record<string, string>> = { anonymous: () => ({}), "another tenant's key": () => stranger };

  it.each(Object.keys(callers))("%s, on every route", async (callerName) => {
    const routes = api.app.declaredRoutes().filter((route: DeclaredRoute) => route.method !== "HEAD" && route.access !== "public");
    const mismatches: string[] = [];
    let accepted = 0;
    for (const route of routes) {
      const path = concrete(route.url);
      const body = route.method === "GET" || route.method === "DELETE" ? undefined : "{}";
      const headers = callers[callerName]!();
      const plain = await send(route.method, path, headers, body);
      for (const spelling of spellings(path)) {
        const answer = await send(route.method, spelling, headers, body);
        const routerRefused = answer.status === 404 && answer.code === "ROUTE_NOT_FOUND";
        const same = answer.status === plain.status && answer.code === plain.code;
        if (!routerRefused) accepted++;
        if (!routerRefused && !same) mismatches.push(`${route.method} ${spelling}: ${answer.status} ${answer.code} where ${path} answers ${plain.status} ${plain.code}`);
        if (answer.status >= 500) mismatches.push(`${route.method} ${spelling}: ${answer.status}`);
      }
    }
    expect(mismatches).toEqual([]);
    // The router does accept other spellings (percent-encoded letters, the absolute form, a query): the walk tried them.
    expect(accepted).toBeGreaterThan(routes.length * 3);
  });

  it("anonymous callers get 401 on every route that is not public, under the plain spelling too", async () => {
    const routes = api.app.declaredRoutes().filter((route) => route.method !== "HEAD" && route.access !== "public");
    const answers = await Promise.all(routes.map(async (route) => ({ route: `${route.method} ${route.url}`, ...(await send(route.method, concrete(route.url))) })));
    expect(answers.filter((answer) => answer.status !== 401)).toEqual([]);
  });

  it("POST /%61pi/tenants and the absolute form create no tenant and give no key without the admin credentials", async () => {
    const before = await countRows(api.prisma);
    const body = JSON.stringify({ name: "Mallory", slug: `mallory-${randomUUID().slice(0, 8)}` });
    for (const target of ["/%61pi/tenants", "/%61%70%69/tenants", "/api/%74enants", `http://${base.host}/api/tenants`, "http://admin.internal/api/tenants", "/api/tenants"]) {
      const answer = await send("POST", target, {}, body);
      expect(answer, target).toEqual({ status: 401, code: "AUTHENTICATION_REQUIRED" });
      expect((await send("POST", target, stranger, body)).status, target).toBe(403);
    }
    expect(await countRows(api.prisma)).toEqual(before);
  });

  it("/%61pi/events/:id tells an anonymous caller nothing about whether the event exists", async () => {
    const [known] = await api.prisma.$queryRaw<{ id: string }[]>`SELECT id::text FROM event_outbox LIMIT 1`;
    const answers = await Promise.all([known!.id, randomUUID()].map((id) => send("GET", `/%61pi/events/${id}`)));
    expect(answers).toEqual([
      { status: 401, code: "AUTHENTICATION_REQUIRED" },
      { status: 401, code: "AUTHENTICATION_REQUIRED" },
    ]);
  });
});

describe("/metrics is not public", () => {
  it("answers the admin credentials and the metrics token; refuses anonymous callers, tenants' keys and a wrong token", async () => {
    expect((await send("GET", "/metrics", admin)).status).toBe(200);
    expect((await send("GET", "/metrics", bearer(metricsToken))).status).toBe(200);
    expect(await send("GET", "/metrics")).toEqual({ status: 401, code: "AUTHENTICATION_REQUIRED" });
    expect(await send("GET", "/metrics", stranger)).toEqual({ status: 403, code: "ADMIN_REQUIRED" });
    expect((await send("GET", "/metrics", bearer(`${metricsToken}x`))).status).toBe(401);
  });

  it("the metrics token opens nothing else", async () => {
    expect(await send("GET", `/api/orders/${randomUUID()}`, bearer(metricsToken))).toEqual({ status: 403, code: "API_KEY_REQUIRED" });
    expect(await send("GET", "/admin/api/stats", bearer(metricsToken))).toEqual({ status: 403, code: "ADMIN_REQUIRED" });
    expect((await send("GET", "/admin/queues/", bearer(metricsToken))).status).toBe(403);
  });
});
