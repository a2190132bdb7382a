/**
 * An order's life: the API creates it `pending`; OrderCreated reserves its stock (`awaiting_payment`)
 * or refuses it (`rejected`); a payment opened by the API makes it `payment_pending`, and its
 * completion `paid`, its failure or expiry `awaiting_payment` again; a cancel makes it `cancelled`.
 */
export const orderStatus = {
  pending: "pending",
  awaitingPayment: "awaiting_payment",
  paymentPending: "payment_pending",
  paid: "paid",
  rejected: "rejected",
  cancelled: "cancelled",
} as const;
export type OrderStatus = (typeof orderStatus)[keyof typeof orderStatus];

/**
 * A payment's life: `pending` when opened; the API's complete call makes it `processing` (and
 * publishes PaymentProcessed); the handler makes it `completed` or `failed`; the expiry job makes
 * a pending one `expired`.
 */
export const paymentStatus = {
  pending: "pending",
  processing: "processing",
  completed: "completed",
  failed: "failed",
  expired: "expired",
} as const;
export type PaymentStatus = (typeof paymentStatus)[keyof typeof paymentStatus];
