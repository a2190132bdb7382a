import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { createTestDatabase, type TestDatabase } from "@outbox/testing";
import { createEndpoint, disableEndpoint, listEndpoints, subscribedEndpoints, subscribes } from "../src/index.ts";
import { createTenant, encryptionKey } from "./fixtures.ts";

let db: TestDatabase;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { poolSize: 2 });
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe("endpoint subscriptions (for the fan-out)", () => {
  it("finds the tenant's enabled endpoints whose filter names the type or is *", async () => {
    const tenantId = await createTenant(prisma);
    const settings = { encryptionKey, allowPrivateNetworks: false };
    const make = (events: string[]) => createEndpoint(prisma, settings, { tenantId, url: "https://hooks.example.com/x", events }).then((r) => r.endpoint.id);
    const orders = await make(["order.created", "order.cancelled"]);
    const all = await make(["*"]);
    await make(["payment.completed"]);
    const off = await make(["order.created"]);
    await disableEndpoint(prisma, tenantId, off);
    await createEndpoint(prisma, settings, { tenantId: await createTenant(prisma), url: "https://hooks.example.com/y", events: ["*"] });

    expect((await subscribedEndpoints(prisma, tenantId, "order.created")).map((e) => e.id).sort()).toEqual([orders, all].sort());
    expect(await listEndpoints(prisma, tenantId)).toHaveLength(4);
    expect(subscribes(["*"], "product.created")).toBe(true);
    expect(subscribes(["order.created"], "product.created")).toBe(false);
  });
});
