import type { Order, OrderItem, Payment, Refund } from "@outbox/db";
import { moneyFrom } from "@outbox/domain";

type OrderWithItems = Order & { items: OrderItem[]; payments?: Payment[]; refunds?: Refund[] };

/** The order as the API shows it, money as JSON numbers (Prisma reads the bigint columns as BigInt). Items keep the order they were written in. */
export function orderView(order: OrderWithItems): Record<string, unknown> {
  return {
    id: order.id,
    tenantId: order.tenantId,
    orderNumber: order.orderNumber,
    status: order.status,
    statusReason: order.statusReason,
    customerId: order.customerId,
    customerEmail: order.customerEmail,
    totalAmount: moneyFrom(order.totalAmount),
    currency: order.currency,
    items: order.items.map((item) => ({ productId: item.productId, quantity: item.quantity, unitPrice: moneyFrom(item.unitPrice) })),
    shippingAddress: order.shippingAddress,
    billingAddress: order.billingAddress,
    ...(order.payments ? { payments: order.payments.map(paymentView) } : {}),
    ...(order.refunds ? { refunds: order.refunds.map((r) => ({ id: r.id, paymentId: r.paymentId, amount: moneyFrom(r.amount), reason: r.reason, createdAt: r.createdAt })) } : {}),
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}

export type PaymentFields = Pick<Payment, "id" | "orderId" | "tenantId" | "status" | "createdAt" | "processedAt" | "expiredAt"> & { amount: bigint | number | string };

export function paymentView(payment: PaymentFields): Record<string, unknown> {
  return {
    id: payment.id,
    orderId: payment.orderId,
    tenantId: payment.tenantId,
    amount: moneyFrom(payment.amount),
    status: payment.status,
    createdAt: payment.createdAt,
    processedAt: payment.processedAt,
    expiredAt: payment.expiredAt,
  };
}
