import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { admin, chromiumInstalled, startAdminBrowser, type AdminBrowser } from "./browser.ts";
import type { OrderEvents } from "@outbox/domain";
import type { HandlerContext, HandlerMap, TransactionalHandler } from "outbox-relay/processor";
import { testHandlers } from "../../worker/test/fixtures/test-handlers.ts";
import { publishAll, tenantEvent, waitForStatus, type PipelineEnv } from "../../worker/test/helpers.ts";

/** The test handlers, where TenantCreated also publishes a follow-up (a UserCreated caused by it). */
const handlers: HandlerMap<OrderEvents> = {
  ...testHandlers,
  TenantCreated: async (context: HandlerContext<OrderEvents, "TenantCreated">) => {
    await (testHandlers.TenantCreated as TransactionalHandler<OrderEvents, "TenantCreated">)(context);
    const { tenantId } = context.event.payload;
    await context.publish({ type: "UserCreated", payload: { userId: `owner-${tenantId}`, tenantId, email: "owner@example.com", role: "admin", createdAt: new Date().toISOString() } });
  },
};

describe("the outbox page in a real browser", () => {
  let harness: AdminBrowser;
  let pipeline: PipelineEnv;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    harness = await startAdminBrowser(handlers);
    ({ pipeline, browser, baseUrl } = harness);
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("an admin finds a dead event by its aggregate, retries it, and sees it processed with the event it caused", async () => {
    expect(chromiumInstalled(), "Debian's chromium is installed (.ci/run installs it)").toBe(true);
    const aggregate = randomUUID();
    await pipeline.prisma.$executeRaw`INSERT INTO test_faults (aggregate_id) VALUES (${aggregate})`;
    const [id] = await publishAll(pipeline.prisma, [tenantEvent("fault-table", aggregate)]);
    await waitForStatus(pipeline.prisma, [id!], "dead", 30_000);
    await pipeline.prisma.$executeRaw`DELETE FROM test_faults WHERE aggregate_id = ${aggregate}`;

    const anonymous = await fetch(`${baseUrl}/admin/outbox`);
    expect(anonymous.status).toBe(401);

    const context = await browser.newContext({ httpCredentials: admin });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/admin/queues`);
    await page.getByText("dead-letter").first().waitFor();
    // Bull Board's header menu (its miscLinks) links to the outbox page.
    await page.locator('header ul[class*="actions"] > li').last().locator("button").click();
    const boardLink = page.getByText("Outbox page (Postgres, the truth)");
    await boardLink.waitFor();
    expect(await boardLink.locator("xpath=ancestor-or-self::a").first().getAttribute("href")).toBe("/admin/outbox");

    await page.goto(`${baseUrl}/admin/outbox`);
    await page.getByText("This page reads Postgres, the source of truth").waitFor();
    await page.getByLabel("aggregate id").fill(aggregate);
    await page.getByRole("button", { name: "Filter" }).click();
    const row = page.locator(`tr[data-event-id="${id}"]`);
    await row.waitFor();
    expect(await page.locator("tr[data-event-id]").count()).toBe(1);
    expect(await row.locator(".status-dead").textContent()).toBe("dead");

    await row.getByRole("link", { name: id! }).click();
    await page.getByText(`fault switched on for ${aggregate}`).first().waitFor();
    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByText("Retried: the row is pending again").waitFor();

    await waitForStatus(pipeline.prisma, [id!], "processed", 30_000);
    await page.reload();
    expect(await page.locator("#event-status").textContent()).toBe("processed");
    const followUp = await pipeline.prisma.eventOutbox.findFirstOrThrow({ where: { causationId: id! } });
    expect(followUp.eventType).toBe("UserCreated");
    await page.locator(`tr[data-event-id="${followUp.id}"]`).waitFor();

    // The event's job in Bull Board links back to its row here.
    await page.getByRole("link", { name: "its job in Bull Board" }).click();
    await page.getByRole("link", { name: "Its row on the outbox page (Postgres)" }).first().waitFor({ timeout: 15_000 });
    await context.close();
  });
});
