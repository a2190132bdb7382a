export { orderEvents, type NewOrderEvent, type OrderEventPayload, type OrderEvents, type OrderEventType } from "./events/catalog.ts";
export * as schemas from "./events/schemas.ts";
export { webhookTypes, type Address, type WebhookType } from "./events/schemas.ts";
export { webhookData, webhookTypeDefinitions, type WebhookData } from "./events/webhook-data.ts";
export { lockOrders, lockPayments, lockProducts, type LockedOrder, type LockedPayment, type LockedProduct } from "./locks.ts";
export { maxMoney, moneyFrom, MoneyOutOfRangeError } from "./money.ts";
export { orderStatus, paymentStatus, type OrderStatus, type PaymentStatus } from "./statuses.ts";
