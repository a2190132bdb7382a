import { z } from "zod";
import { defineEvents, queueNames } from "outbox-relay/events";

const slug = z.string().regex(/^[a-z0-9-]+$/, "must be lowercase letters, digits and dashes");
const accountOpened = z.object({ accountId: z.string(), name: z.string().min(1), slug, openedAt: z.iso.datetime() });

/**
 * The engine's own tests' catalog: a tiny service of accounts and the receipts it sends, so that
 * no engine test leans on the order domain. AccountOpened and AccountClosed run in order per
 * account; ReceiptSent is unordered, on the webhooks queue, with five attempts from 5 s.
 */
export const testEvents = defineEvents({
  AccountOpened: {
    schema: accountOpened,
    aggregate: (p) => ({ type: "account", id: p.accountId }),
    priority: 6,
  },
  AccountClosed: {
    schema: z.object({ accountId: z.string(), reason: z.string(), closedAt: z.iso.datetime() }),
    aggregate: (p) => ({ type: "account", id: p.accountId }),
    priority: 2,
  },
  ReceiptSent: {
    schema: z.object({ receiverId: z.string(), accountId: z.string() }),
    aggregate: (p) => ({ type: "receiver", id: p.receiverId }),
    priority: 5,
    ordered: false,
    policy: { queue: queueNames.webhooks, attempts: 5, backoffMs: 5000, timeoutMs: 35_000 },
  },
});

/**
 * The same service one release earlier, before AccountClosed existed: a worker of that release
 * beside producers and workers of the next one, for the tests of a rolling deploy.
 */
export const previousTestEvents = defineEvents({
  AccountOpened: { schema: accountOpened, aggregate: (p) => ({ type: "account", id: p.accountId }), priority: 6 },
});
