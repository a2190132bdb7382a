/** What the soak caused, as the API and the database acknowledged it: the truth the end state is checked against. */
export interface OrderStory {
  orderId: string;
  totalAmount: number;
  /** The quantity ordered of each product. */
  items: { productId: string; quantity: number }[];
  /** The events this order caused, in commit order (the API answered each before the next call). */
  events: ("OrderCreated" | "PaymentSucceeded" | "PaymentFailed" | "OrderCancelled")[];
  /** A payment was opened but its answer lost: the order may still wait on it (until the expiry job). */
  uncertain?: boolean;
  /**
   * The status the order had when the cancel committed, as the API answered it (undefined when the
   * cancel was confirmed by reading it back). An order cancelled while `pending` is never reserved,
   * confirmed or counted: its OrderCreated finds it cancelled and does nothing.
   */
  cancelledFrom?: string;
}

export class Ledger {
  readonly orders = new Map<string, OrderStory>();
  /** Users written by plain SQL with their UserCreated row, in one acknowledged transaction. */
  readonly users: string[] = [];
  /** Requests answered 503 or 429 (with Retry-After or not), and requests with no answer at all. */
  readonly refusals = { withRetryAfter: 0, withoutRetryAfter: 0, noAnswer: 0, serverErrors: 0 };

  /** Answers a correct client should not get (a 4xx for a valid call): the first few, and how many. */
  readonly surprises = { count: 0, examples: [] as string[] };

  unexpected(what: string): void {
    this.surprises.count++;
    if (this.surprises.examples.length < 5) this.surprises.examples.push(what);
  }

  record(orderId: string, event: OrderStory["events"][number]): void {
    this.orders.get(orderId)!.events.push(event);
  }

  get eventCount(): number {
    let count = this.users.length;
    for (const order of this.orders.values()) count += order.events.length;
    return count;
  }
}

/** Whether the order's OrderCreated did its work: 1, 0, or undefined when the ledger cannot tell. */
export function reserved(story: OrderStory): 0 | 1 | undefined {
  if (!story.events.includes("OrderCancelled")) return 1;
  if (story.cancelledFrom === undefined) return undefined;
  return story.cancelledFrom === "pending" ? 0 : 1;
}

/** The status an order ends in after its recorded events. */
export function expectedStatus(story: OrderStory): string {
  let status = "awaiting_payment";
  for (const event of story.events) {
    if (event === "PaymentSucceeded") status = "paid";
    else if (event === "PaymentFailed") status = "awaiting_payment";
    else if (event === "OrderCancelled") status = "cancelled";
  }
  return status;
}
