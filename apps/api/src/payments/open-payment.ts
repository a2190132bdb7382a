import { randomUUID } from "node:crypto";
import { moneyFrom, orderStatus, paymentStatus } from "@outbox/domain";
import { type Database, sql } from "outbox-relay";
import { conflict, invalid, notFound } from "../errors.ts";
import { retrying } from "../retrying.ts";
import { isUuid } from "../validation.ts";

interface OrderState {
  id: string;
  tenant_id: string;
  status: string;
  status_reason: string | null;
  /** bigint, as pg returns it. */
  total_amount: string;
}

export interface PaymentRow {
  id: string;
  tenant_id: string;
  order_id: string;
  /** bigint, as pg returns it. */
  amount: string;
  status: string;
  created_at: Date;
  processed_at: Date | null;
  expired_at: Date | null;
}

/** Why an order in this state takes no new payment; undefined when it does. */
function refusal(order: OrderState): { code: string; message: string } | undefined {
  const reason = order.status_reason ? ` (${order.status_reason})` : "";
  switch (order.status) {
    case orderStatus.awaitingPayment:
      return undefined;
    case orderStatus.cancelled:
      return { code: "ORDER_CANCELLED", message: `order ${order.id} is cancelled${reason}` };
    case orderStatus.rejected:
      return { code: "ORDER_REJECTED", message: `order ${order.id} was rejected${reason}` };
    case orderStatus.paid:
      return { code: "ORDER_ALREADY_PAID", message: `order ${order.id} is already paid` };
    case orderStatus.paymentPending:
      return { code: "PAYMENT_IN_PROGRESS", message: `order ${order.id} already has an open payment` };
    default:
      return { code: "ORDER_NOT_READY", message: `order ${order.id} is ${order.status}: its stock is not reserved yet; try again shortly` };
  }
}

/**
 * Opens a pending payment for the whole order total; the order waits on it (`payment_pending`).
 * Two round trips: a read, then one statement that moves the order from `awaiting_payment` and
 * inserts the payment only if it did (else it runs again on a fresh read). With a `tenantScope`
 * another tenant's order reads as missing: 404.
 */
export async function openPayment(db: Database, orderId: string, amount: number, tenantScope: string | undefined): Promise<PaymentRow> {
  if (!isUuid(orderId)) throw notFound("order", orderId);
  return retrying(async () => {
    const [order] = await db.query<OrderState>(sql`
      SELECT id::text, tenant_id::text, status, status_reason, total_amount FROM orders
      WHERE id = ${orderId}::uuid AND (${tenantScope ?? null}::uuid IS NULL OR tenant_id = ${tenantScope ?? null}::uuid)`);
    if (!order) throw notFound("order", orderId);
    const refused = refusal(order);
    if (refused) throw conflict(refused.code, refused.message);
    const total = moneyFrom(order.total_amount);
    if (amount !== total) throw invalid([{ path: "amount", message: `must equal the order total ${total}` }]);
    const [payment] = await db.query<PaymentRow>(sql`
      WITH changed AS (
        UPDATE orders SET status = 'payment_pending', status_reason = NULL, updated_at = now()
        WHERE id = ${orderId}::uuid AND status = 'awaiting_payment'
        RETURNING id, tenant_id)
      INSERT INTO payments (id, tenant_id, order_id, amount, status)
      SELECT ${randomUUID()}::uuid, tenant_id, id, ${amount}, ${paymentStatus.pending} FROM changed
      RETURNING id::text, tenant_id::text, order_id::text, amount, status, created_at, processed_at, expired_at`);
    return payment;
  });
}
