export { lockOrders, lockPayments, lockProducts, type LockedOrder, type LockedPayment, type LockedProduct } from "./locks.ts";
export { maxMoney, moneyFrom, MoneyOutOfRangeError } from "./money.ts";
export { orderStatus, paymentStatus, type OrderStatus, type PaymentStatus } from "./statuses.ts";
