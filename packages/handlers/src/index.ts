import { orderEvents, type OrderEvents } from "@outbox/domain";
import { defineHandlers, type HandlerMap } from "outbox-relay";
import { handleOrderCancelled } from "./order-cancelled.ts";
import { handleOrderCreated } from "./order-created.ts";
import { handlePaymentExpired } from "./payment-expired.ts";
import { handlePaymentProcessed } from "./payment-processed.ts";
import { handleProductCreated } from "./product-created.ts";
import { defaultOnboardingRecipient, tenantCreatedHandler } from "./tenant-created.ts";
import { handleUserCreated } from "./user-created.ts";

export interface DomainHandlerOptions {
  /** Who receives the onboarding email of a new tenant. */
  onboardingRecipient?: string;
}

/**
 * The business handlers, one batch handler per domain event: each takes every event of its type
 * in a commit group in one call. WebhookDelivery is outbox-relay/webhooks' delivery handler.
 */
export function createDomainHandlers({ onboardingRecipient = defaultOnboardingRecipient }: DomainHandlerOptions = {}): HandlerMap<OrderEvents> {
  return defineHandlers(orderEvents, {
    OrderCreated: handleOrderCreated,
    OrderCancelled: handleOrderCancelled,
    PaymentProcessed: handlePaymentProcessed,
    PaymentExpired: handlePaymentExpired,
    UserCreated: handleUserCreated,
    ProductCreated: handleProductCreated,
    TenantCreated: tenantCreatedHandler(onboardingRecipient),
  });
}

export const domainHandlers: HandlerMap<OrderEvents> = createDomainHandlers();

export { bumpDailyStats, utcDay, type DailyStatsBump, type DailyStatsDelta } from "./daily-stats.ts";
export { queueEmails, type EmailTemplate, type QueuedEmail } from "./emails.ts";
export type { OrderBatchContext, OrderEvent } from "./types.ts";
export { lockOrders, lockPayments, type LockedOrder, type LockedPayment } from "./locks.ts";
export { refundCompletedPayments, type MadeRefund, type RefundRequest } from "./refunds.ts";
export { allocateStock, type Allocation, type StockRequest } from "./stock-allocation.ts";
export { defaultOnboardingRecipient, defaultTenantSettings } from "./tenant-created.ts";
export { defaultUserPreferences } from "./user-created.ts";
export {
  handleOrderCancelled,
  handleOrderCreated,
  handlePaymentExpired,
  handlePaymentProcessed,
  handleProductCreated,
  handleUserCreated,
  tenantCreatedHandler,
};
export {
  buildSettlement,
  expirePayments,
  orderSchedules,
  previousUtcDay,
  type ExpirePaymentsOptions,
  type OrderScheduleSettings,
  type SettlementRow,
} from "./schedules/index.ts";
