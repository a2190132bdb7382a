import { moneyFrom, orderEvents, orderStatus, paymentStatus } from "@outbox/domain";
import { type Database, sql } from "outbox-relay";
import { conflict, notFound } from "../errors.ts";
import { retrying } from "../retrying.ts";
import { isUuid } from "../validation.ts";

interface PaymentState {
  status: string;
  /** bigint, as pg returns it. */
  amount: string;
  order_id: string;
  tenant_id: string;
  order_status: string;
  order_status_reason: string | null;
}

/**
 * The payment provider's answer: the payment becomes `processing` and PaymentProcessed settles
 * it. Two round trips: a read of the payment and its order, then one statement that moves the
 * payment from `pending` (while its order is not cancelled) and publishes the event only if it
 * did. A cancel that commits in between is settled by the handler, which refunds. With a
 * `tenantScope` another tenant's payment reads as missing: 404.
 */
export async function completePayment(db: Database, id: string, succeeded: boolean, tenantScope: string | undefined) {
  if (!isUuid(id)) throw notFound("payment", id);
  return retrying(async () => {
    const [payment] = await db.query<PaymentState>(sql`
      SELECT p.status, p.amount, p.order_id::text, p.tenant_id::text, o.status AS order_status, o.status_reason AS order_status_reason
      FROM payments p JOIN orders o ON o.id = p.order_id
      WHERE p.id = ${id}::uuid AND (${tenantScope ?? null}::uuid IS NULL OR p.tenant_id = ${tenantScope ?? null}::uuid)`);
    if (!payment) throw notFound("payment", id);
    if (payment.status !== paymentStatus.pending) throw conflict("PAYMENT_NOT_PENDING", `payment ${id} is ${payment.status}, not pending`);
    if (payment.order_status === orderStatus.cancelled) {
      throw conflict("ORDER_CANCELLED", `order ${payment.order_id} is cancelled${payment.order_status_reason ? ` (${payment.order_status_reason})` : ""}`);
    }
    const outcome = succeeded ? "succeeded" : "failed";
    const published = orderEvents.publishStatement(
      [
        {
          type: "PaymentProcessed",
          payload: { paymentId: id, orderId: payment.order_id, tenantId: payment.tenant_id, amount: moneyFrom(payment.amount), status: outcome, processedAt: new Date().toISOString() },
        },
      ],
      { onlyIf: sql`EXISTS (SELECT 1 FROM changed)` },
    );
    const [row] = await db.query<{ changed: boolean }>(sql`
      WITH changed AS (
        UPDATE payments SET status = 'processing'
        WHERE id = ${id}::uuid AND status = 'pending'
          AND EXISTS (SELECT 1 FROM orders WHERE id = ${payment.order_id}::uuid AND status <> 'cancelled')
        RETURNING 1),
      published AS (${published.statement})
      SELECT EXISTS (SELECT 1 FROM changed) AS changed`);
    if (!row!.changed) return undefined;
    return { id, orderId: payment.order_id, status: paymentStatus.processing, outcome, eventId: published.ids[0]! };
  });
}
