/**
 * Money is an integer count of the currency's minor unit (cents). The columns are bigint (a 32-bit
 * sum of a day's orders overflowed); in JavaScript and JSON an amount is a number, so it stays
 * within the safe integers: the API and the event schemas refuse more than `maxMoney`.
 */
export const maxMoney = Number.MAX_SAFE_INTEGER;

/** A money value read back from Postgres is out of JavaScript's exact range. */
export class MoneyOutOfRangeError extends RangeError {
  readonly code = "MONEY_OUT_OF_RANGE";
  constructor(value: string) {
    super(`money value ${value} is past ${maxMoney} (2^53 - 1) and cannot be a JSON number`);
    this.name = "MoneyOutOfRangeError";
  }
}

/**
 * A money value as a driver returns it, as a number: pg returns bigint (and numeric sums) as
 * strings, Prisma returns BigInt. Throws MoneyOutOfRangeError past 2^53 - 1 rather than round.
 */
export function moneyFrom(value: string | number | bigint): number {
  const amount = Number(value);
  if (!Number.isSafeInteger(amount)) throw new MoneyOutOfRangeError(String(value));
  return amount;
}
