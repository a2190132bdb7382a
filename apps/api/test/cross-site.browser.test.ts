import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { sql } from "outbox-relay/sql";
import { chromiumInstalled, launchChromium } from "./browser.ts";
import { adminPassword, insertDeadEvent, startApi, type ApiHarness } from "./helpers.ts";

/** Another site: one page whose form posts itself, as soon as it loads, to `action` with a text/plain body. */
function startForgerySite(): Promise<{ server: Server; pageFor: (action: string) => string }> {
  const pages = new Map<string, string>();
  const server = createServer((request, response) => {
    const action = pages.get(request.url ?? "");
    response.writeHead(action ? 200 : 404, { "content-type": "text/html" });
    response.end(
      action
        ? `<form method="POST" enctype="text/plain" action="${action}"><input name='{"a":"' value='"}'></form><script>document.forms[0].submit()</script>`
        : "",
    );
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({
        server,
        pageFor: (action) => {
          const path = `/${randomUUID()}`;
          pages.set(path, action);
          return `http://127.0.0.1:${port}${path}`;
        },
      });
    }),
  );
}

describe("a page on another site, opened by an admin whose browser holds the credentials", () => {
  let api: ApiHarness;
  let apiBase: string;
  let browser: Browser;
  let forgery: Awaited<ReturnType<typeof startForgerySite>>;

  beforeAll(async () => {
    api = await startApi({ queues: true });
    // The forgery site listens on another port: another origin (Chromium says same-site, not same-origin).
    apiBase = await api.app.listen({ host: "127.0.0.1", port: 0 });
    forgery = await startForgerySite();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    forgery?.server.close();
    await api?.close();
  });

  it("cannot skip or retry a dead event, nor create a tenant, with a self-submitting form", async () => {
    expect(chromiumInstalled(), "Debian's chromium is installed (.ci/run installs it)").toBe(true);
    const id = await insertDeadEvent(api.sql);
    const tenantsBefore = await api.prisma.tenant.count();
    const context = await browser.newContext({ httpCredentials: { username: "admin", password: adminPassword } });
    try {
      const page = await context.newPage();
      // The browser does send the credentials to the API: its own pages open.
      const own = await page.goto(`${apiBase}/admin/outbox`);
      expect(own?.status()).toBe(200);

      for (const action of [`/admin/api/dlq/${id}/skip`, `/admin/api/dlq/${id}/retry`, "/admin/api/dlq/retry-all", "/api/tenants"]) {
        const answered = page.waitForResponse((response) => response.url() === `${apiBase}${action}` && response.status() !== 401);
        await page.goto(forgery.pageFor(`${apiBase}${action}`));
        const response = await answered;
        expect(response.status(), action).toBe(403);
        expect(await response.text()).toContain("CROSS_SITE_REQUEST");
      }
    } finally {
      await context.close();
    }
    const [row] = await api.sql.query<{ status: string }>(sql`SELECT status FROM event_outbox WHERE id = ${id}::uuid`);
    expect(row?.status).toBe("dead");
    expect(await api.prisma.tenant.count()).toBe(tenantsBefore);
  });
});
