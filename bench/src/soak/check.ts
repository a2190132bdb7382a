import type pg from "pg";
import { expectedStatus, reserved, type Ledger } from "./ledger.ts";

export interface LedgerCheck {
  events: number;
  orders: number;
  users: number;
  /** Ledger events whose effect is missing from the database or from the webhook receiver. */
  lost: number;
  /** Effects applied more than once: counters, stock and webhook fan-out above what the database's own rows imply. */
  doubled: number;
  /** Later events of an aggregate marked processed before earlier ones (seen in samples and at the end). */
  inversions: number;
  /** Outbox rows neither processed, skipped nor dead with a reason. */
  unfinished: number;
  dead: number;
  problems: string[];
  passed: boolean;
}

/** Webhook deliveries the soak's receiver took: distinct webhook-ids per `type:orderId`. */
export type Deliveries = Map<string, Set<string>>;

const initialStock = 1_000_000_000;

/** Pairs of one aggregate's events, marked processed in the wrong order, among rows still in the table (retention removes old ones). */
export async function countInversions(db: pg.Pool | pg.Client): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`
    SELECT count(*)::int AS n FROM event_outbox a JOIN event_outbox b
      ON b.aggregate_type = a.aggregate_type AND b.aggregate_id = a.aggregate_id AND b.sequence > a.sequence
    WHERE a.status = 'processed' AND b.status = 'processed' AND b.processed_at < a.processed_at
      AND a.ordered AND b.ordered`);
  return rows[0]!.n;
}

/** Checks the end state against the ledger, once everything is handled. */
export async function checkLedger(db: pg.Pool, ledger: Ledger, deliveries: Deliveries, inversionsSeen: number, productCount: number): Promise<LedgerCheck> {
  const problems: string[] = [];
  let lost = 0;
  let doubled = 0;
  const note = (kind: "lost" | "doubled", message: string) => {
    if (kind === "lost") lost++;
    else doubled++;
    if (problems.length < 50) problems.push(`${kind}: ${message}`);
  };

  const orderIds = [...ledger.orders.keys()];
  const { rows: orders } = await db.query<{ id: string; status: string; confirmations: number; cancellations: number; refunds: number }>(
    `WITH confirmations AS (SELECT data->>'orderNumber' AS n, count(*) AS c FROM emails WHERE template = 'order_confirmation' GROUP BY 1),
          cancellations AS (SELECT data->>'orderNumber' AS n, count(*) AS c FROM emails WHERE template = 'order_cancelled' GROUP BY 1),
          refunded AS (SELECT order_id, count(*) AS c FROM refunds GROUP BY 1)
     SELECT o.id::text, o.status, coalesce(f.c, 0)::int AS confirmations, coalesce(x.c, 0)::int AS cancellations, coalesce(r.c, 0)::int AS refunds
     FROM orders o LEFT JOIN confirmations f ON f.n = o.order_number LEFT JOIN cancellations x ON x.n = o.order_number
       LEFT JOIN refunded r ON r.order_id = o.id
     WHERE o.id = ANY($1::uuid[])`,
    [orderIds],
  );
  const byId = new Map(orders.map((o) => [o.id, o]));
  for (const story of ledger.orders.values()) {
    const row = byId.get(story.orderId);
    if (!row) {
      note("lost", `order ${story.orderId} is not in the database`);
      continue;
    }
    const expected = expectedStatus(story);
    const acceptable = story.uncertain ? [expected, "payment_pending"] : [expected];
    if (!acceptable.includes(row.status)) note("lost", `order ${story.orderId} is ${row.status}, expected ${expected} after ${story.events.join(", ")}`);
    const confirmed = reserved(story);
    if (row.confirmations > 1 || (confirmed !== undefined && row.confirmations !== confirmed)) {
      note(row.confirmations < (confirmed ?? 0) ? "lost" : "doubled", `order ${story.orderId} has ${row.confirmations} confirmation emails, expected ${confirmed}`);
    }
    const cancelled = story.events.includes("OrderCancelled");
    if (cancelled && row.cancellations !== 1) note(row.cancellations === 0 ? "lost" : "doubled", `order ${story.orderId} has ${row.cancellations} cancellation emails`);
    const refundDue = cancelled && story.events.indexOf("PaymentSucceeded") >= 0 && story.events.indexOf("PaymentSucceeded") < story.events.indexOf("OrderCancelled") ? 1 : 0;
    if (row.refunds !== refundDue) note(row.refunds < refundDue ? "lost" : "doubled", `order ${story.orderId} has ${row.refunds} refunds, expected ${refundDue}`);
    for (const event of story.events) {
      const type = { OrderCreated: "order.created", OrderCancelled: "order.cancelled", PaymentSucceeded: "payment.completed", PaymentFailed: "payment.failed" }[event];
      const ids = deliveries.get(`${type}:${story.orderId}`)?.size ?? 0;
      // An OrderCreated that found its order cancelled sends nothing; when the ledger cannot tell, the confirmation email decides.
      const expectedIds = event === "OrderCreated" ? (confirmed ?? row.confirmations) : story.events.filter((e) => e === event).length;
      if (ids < expectedIds) note("lost", `${type} of order ${story.orderId} never reached the receiver`);
      if (ids > expectedIds) note("doubled", `${type} of order ${story.orderId} fanned out ${ids} times`);
    }
  }

  const { rows: users } = await db.query<{ id: string; profiles: number; welcomes: number }>(
    `WITH welcomes AS (SELECT recipient, count(*) AS c FROM emails WHERE template = 'welcome' GROUP BY 1)
     SELECT u.id::text, (SELECT count(*)::int FROM user_profiles p WHERE p.user_id = u.id) AS profiles, coalesce(w.c, 0)::int AS welcomes
     FROM users u LEFT JOIN welcomes w ON w.recipient = u.email
     WHERE u.id = ANY($1::uuid[])`,
    [ledger.users],
  );
  for (const user of users) {
    if (user.profiles !== 1) note(user.profiles === 0 ? "lost" : "doubled", `user ${user.id} has ${user.profiles} profiles`);
    if (user.welcomes !== 1) note(user.welcomes === 0 ? "lost" : "doubled", `user ${user.id} has ${user.welcomes} welcome emails`);
  }
  for (let i = users.length; i < ledger.users.length; i++) note("lost", "a user acknowledged by Postgres is missing");

  // Counters and stock against the rows that caused them: an effect applied twice shows as a difference.
  const [totals] = (
    await db.query<{ stats_orders: number; stats_cancelled: number; cancelled: number; stats_completed: number; completed: number; stats_failed: number; failed: number; stock_used: string; reserved: string }>(`
      SELECT (SELECT coalesce(sum(orders_created), 0)::int FROM tenant_daily_stats) AS stats_orders,
        (SELECT coalesce(sum(orders_cancelled), 0)::int FROM tenant_daily_stats) AS stats_cancelled,
        (SELECT count(*)::int FROM orders WHERE status = 'cancelled') AS cancelled,
        (SELECT coalesce(sum(payments_completed), 0)::int FROM tenant_daily_stats) AS stats_completed,
        (SELECT count(*)::int FROM payments WHERE status = 'completed') AS completed,
        (SELECT coalesce(sum(payments_failed), 0)::int FROM tenant_daily_stats) AS stats_failed,
        (SELECT count(*)::int FROM payments WHERE status = 'failed') AS failed,
        (SELECT (${initialStock}::bigint * ${productCount} - coalesce(sum(stock), 0))::text FROM products) AS stock_used,
        (SELECT coalesce(sum(i.quantity), 0)::text FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status NOT IN ('pending', 'cancelled', 'rejected')) AS reserved`)
  ).rows;
  const stories = [...ledger.orders.values()];
  const reservedOrders = stories.filter((story) => reserved(story) === 1).length;
  const unknown = stories.filter((story) => reserved(story) === undefined).length;
  const ordersCounted = totals!.stats_orders;
  if (ordersCounted > reservedOrders + unknown) note("doubled", `orders counted in daily stats: ${ordersCounted}, the ledger says at most ${reservedOrders + unknown}`);
  if (ordersCounted < reservedOrders) note("lost", `orders counted in daily stats: ${ordersCounted}, the ledger says at least ${reservedOrders}`);
  const pairs: [string, number | string, number | string][] = [
    ["cancels counted in daily stats", totals!.stats_cancelled, totals!.cancelled],
    ["completed payments counted", totals!.stats_completed, totals!.completed],
    ["failed payments counted", totals!.stats_failed, totals!.failed],
    ["stock taken from products vs items of live orders", totals!.stock_used, totals!.reserved],
  ];
  for (const [what, counted, truth] of pairs) {
    if (Number(counted) > Number(truth)) note("doubled", `${what}: ${counted}, the rows say ${truth}`);
    if (Number(counted) < Number(truth)) note("lost", `${what}: ${counted}, the rows say ${truth}`);
  }

  const [outbox] = (
    await db.query<{ unfinished: number; dead: number; dead_without_reason: number }>(`
      SELECT count(*) FILTER (WHERE status NOT IN ('processed', 'skipped', 'dead'))::int AS unfinished,
        count(*) FILTER (WHERE status = 'dead')::int AS dead,
        count(*) FILTER (WHERE status = 'dead' AND coalesce(last_error, '') = '')::int AS dead_without_reason
      FROM event_outbox`)
  ).rows;
  const unfinished = outbox!.unfinished + outbox!.dead_without_reason;
  if (unfinished > 0) problems.push(`${outbox!.unfinished} outbox rows unfinished, ${outbox!.dead_without_reason} dead without a reason`);
  const inversions = inversionsSeen + (await countInversions(db));
  if (inversions > 0) problems.push(`${inversions} per-aggregate inversions`);
  return {
    events: ledger.eventCount,
    orders: ledger.orders.size,
    users: ledger.users.length,
    lost,
    doubled,
    inversions,
    unfinished,
    dead: outbox!.dead,
    problems,
    passed: lost === 0 && doubled === 0 && inversions === 0 && unfinished === 0,
  };
}
