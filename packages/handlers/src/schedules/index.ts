import type { Schedule, ScheduleRepeat } from "outbox-relay";
import { expirePayments } from "./expire-payments.ts";
import { buildSettlement, previousUtcDay } from "./settlement.ts";

export interface OrderScheduleSettings {
  paymentExpiry: ScheduleRepeat;
  /** A payment pending longer than this expires. */
  paymentExpiryAfterMs: number;
  settlement: ScheduleRepeat;
}

/** The order domain's scheduled jobs: payment expiry, and the daily settlement of the day before the tick. */
export function orderSchedules({ paymentExpiry, paymentExpiryAfterMs, settlement }: OrderScheduleSettings): Schedule[] {
  return [
    {
      name: "payment-expiry",
      repeat: paymentExpiry,
      run: async ({ db }) => ({ expired: (await expirePayments(db, new Date(), { expireAfterMs: paymentExpiryAfterMs })).length }),
    },
    {
      name: "settlement",
      repeat: settlement,
      run: async ({ db, scheduledAt }) => {
        const day = previousUtcDay(scheduledAt);
        return { day, tenants: (await buildSettlement(db, day)).length };
      },
    },
  ];
}

export { expirePayments, type ExpirePaymentsOptions } from "./expire-payments.ts";
export { buildSettlement, previousUtcDay, type SettlementRow } from "./settlement.ts";
