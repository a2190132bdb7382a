import { setTimeout as sleep } from "node:timers/promises";
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { Ledger, OrderStory } from "./ledger.ts";

/** One answer of the API; status 0 when none came (connection refused or reset, timeout). */
interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfterS: number | undefined;
}


export interface Shop {
  base: string;
  authorization: string;
  tenantId: string;
  customerId: string;
  products: string[];
}

/**
 * The API as a careful client uses it: refusals (503, 429) are retried after their Retry-After; a
 * call that got no answer or a 5xx may have committed, so the story reads the state back before it
 * goes on. The ledger records an event only once the API or a read-back confirms it committed.
 */
export class Traffic {
  private inFlight = 0;
  private readonly stories = new Set<Promise<void>>();

  constructor(
    private readonly shop: Shop,
    private readonly ledger: Ledger,
  ) {}

  get active(): number {
    return this.inFlight;
  }

  start(): void {
    const story = this.runStory().finally(() => this.stories.delete(story));
    this.stories.add(story);
  }

  async settle(): Promise<void> {
    await Promise.all([...this.stories]);
  }

  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    try {
      const response = await fetch(`${this.shop.base}${path}`, {
        method,
        headers: { authorization: this.shop.authorization, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      const retryAfter = response.headers.get("retry-after");
      if (response.status === 503 || response.status === 429) {
        if (retryAfter) this.ledger.refusals.withRetryAfter++;
        else this.ledger.refusals.withoutRetryAfter++;
      } else if (response.status >= 500) this.ledger.refusals.serverErrors++;
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, retryAfterS: retryAfter ? Number(retryAfter) : undefined };
    } catch {
      this.ledger.refusals.noAnswer++;
      return { status: 0, body: {}, retryAfterS: undefined };
    }
  }

  /** Repeats a call while it is refused or unanswered; `resolve` reads back whether an unanswered one committed. */
  private async persist(attempt: () => Promise<Answer>, resolve?: () => Promise<Answer | undefined>): Promise<Answer> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const answer = await attempt();
      if (answer.status > 0 && answer.status < 500 && answer.status !== 429) return answer;
      if (Date.now() > deadline) return answer;
      await sleep(Math.min(5, answer.retryAfterS ?? 1) * 1000);
      const known = answer.status === 503 && answer.body.code === "OVERLOADED" ? undefined : await resolve?.();
      if (known) return known;
    }
  }

  private async runStory(): Promise<void> {
    this.inFlight++;
    try {
      const story = await this.createOrder();
      if (!story) return;
      const roll = Math.random();
      if (roll < 0.2) return void (await this.cancel(story));
      if (roll < 0.95) {
        const succeeded = roll >= 0.35;
        const paid = await this.pay(story, succeeded);
        if (paid && succeeded && Math.random() < 0.25) await this.cancel(story);
      }
    } finally {
      this.inFlight--;
    }
  }

  private async createOrder(): Promise<OrderStory | undefined> {
    const { products } = this.shop;
    const first = Math.floor(Math.random() * products.length);
    const items = [
      { productId: products[first]!, quantity: 1 + Math.floor(Math.random() * 3), unitPrice: 500 },
      { productId: products[(first + 1 + Math.floor(Math.random() * (products.length - 1))) % products.length]!, quantity: 1, unitPrice: 500 },
    ];
    const body = {
      tenantId: this.shop.tenantId,
      customerId: this.shop.customerId,
      customerEmail: "buyer@example.com",
      items,
      shippingAddress: { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1 9GU", country: "GB" },
    };
    const key = randomUUID();
    const answer = await this.persist(() => this.call("POST", "/api/orders", body, { "idempotency-key": key }));
    if (answer.status !== 201) return void this.ledger.unexpected(`POST /api/orders answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    const orderId = answer.body.id as string;
    const story: OrderStory = { orderId, totalAmount: Number(answer.body.totalAmount), items, events: [] };
    this.ledger.orders.set(orderId, story);
    this.ledger.record(orderId, "OrderCreated");
    return story;
  }

  private async orderStatus(orderId: string): Promise<string | undefined> {
    const answer = await this.call("GET", `/api/orders/${orderId}`);
    return answer.status === 200 ? (answer.body.status as string) : undefined;
  }

  private async cancel(story: OrderStory): Promise<void> {
    const answer = await this.persist(
      () => this.call("POST", `/api/orders/${story.orderId}/cancel`, { reason: "soak" }),
      async () => ((await this.orderStatus(story.orderId)) === "cancelled" ? { status: 202, body: {}, retryAfterS: undefined } : undefined),
    );
    if (answer.status === 202) {
      story.cancelledFrom = answer.body.previousStatus as string | undefined;
      this.ledger.record(story.orderId, "OrderCancelled");
    }
    else this.ledger.unexpected(`POST /api/orders/:id/cancel answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }

  /** Opens a payment once the order's stock is reserved, then completes it; true when PaymentProcessed committed. */
  private async pay(story: OrderStory, succeeded: boolean): Promise<boolean> {
    let paymentId: string | undefined;
    for (let tries = 0; tries < 600 && !paymentId; tries++) {
      const answer = await this.persist(() => this.call("POST", "/api/payments", { orderId: story.orderId, amount: story.totalAmount }));
      if (answer.status === 201) paymentId = answer.body.id as string;
      else if (answer.body.code === "ORDER_NOT_READY") await sleep(200);
      else {
        // PAYMENT_IN_PROGRESS after an unanswered open: that payment is left to the expiry job.
        if (answer.body.code === "PAYMENT_IN_PROGRESS") story.uncertain = true;
        else this.ledger.unexpected(`POST /api/payments answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        return false;
      }
    }
    if (!paymentId) return false;
    const answer = await this.persist(
      () => this.call("POST", `/api/payments/${paymentId}/complete`, { succeeded }),
      async () => {
        const payment = await this.call("GET", `/api/payments/${paymentId}`);
        return payment.status === 200 && payment.body.status !== "pending" ? { status: 202, body: {}, retryAfterS: undefined } : undefined;
      },
    );
    if (answer.status !== 202 && answer.status !== 200) {
      this.ledger.unexpected(`POST /api/payments/:id/complete answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return false;
    }
    this.ledger.record(story.orderId, succeeded ? "PaymentSucceeded" : "PaymentFailed");
    return true;
  }
}

/**
 * A producer that writes straight to Postgres, as a service without the API would: each statement
 * commits users and their UserCreated rows together. A statement that fails may or may not have
 * committed; only acknowledged ones enter the ledger.
 */
export class SqlProducer {
  private readonly pool: pg.Pool;

  constructor(
    databaseUrl: string,
    private readonly tenantId: string,
    private readonly ledger: Ledger,
  ) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on("error", () => {}); // an idle client cut by a fault; the next query reconnects
  }

  async write(count: number): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ id: string }>(
        `WITH u AS (
           INSERT INTO users (id, tenant_id, email, role)
           SELECT gen_random_uuid(), $1::uuid, 'soak-' || gen_random_uuid() || '@example.com', 'customer' FROM generate_series(1, $2::int)
           RETURNING id, tenant_id, email, role)
         INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, tenant_id, payload)
         SELECT 'UserCreated', 'user', id::text, tenant_id::text,
           jsonb_build_object('userId', id, 'tenantId', tenant_id, 'email', email, 'role', role,
                              'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
         FROM u RETURNING aggregate_id AS id`,
        [this.tenantId, count],
      );
      for (const row of rows) this.ledger.users.push(row.id);
    } catch {
      // not acknowledged: left out of the ledger (if it did commit, the end check still finds its rows handled)
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
