import * as domain from "@outbox/domain";
import type { Queryable } from "outbox-relay";
import { requireEach, uuidsOf } from "./ids.ts";

export type { LockedOrder, LockedPayment } from "@outbox/domain";

/**
 * The handlers' locks, in the domain's one lock order (@outbox/domain, docs/locking.md): orders,
 * then payments, then products, each in id order. A missing row is a PermanentError.
 */
export async function lockOrders(tx: Queryable, orderIds: readonly string[]): Promise<Map<string, domain.LockedOrder>> {
  return requireEach("order", orderIds, await domain.lockOrders(tx, uuidsOf(orderIds)));
}

export async function lockPayments(tx: Queryable, paymentIds: readonly string[]): Promise<Map<string, domain.LockedPayment>> {
  return requireEach("payment", paymentIds, await domain.lockPayments(tx, uuidsOf(paymentIds)));
}
