export { lockOrders, lockPayments, lockProducts, type LockedOrder, type LockedPayment, type LockedProduct } from "./locks.ts";
export { orderStatus, paymentStatus, type OrderStatus, type PaymentStatus } from "./statuses.ts";
