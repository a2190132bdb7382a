// The api scenario's baseline: a bare Fastify route that writes what POST /api/orders writes (the
// order, its items and its OrderCreated outbox row) with `pg` in one transaction, with no checks,
// no idempotency, no shedding. DATABASE_URL and PORT from the environment; prints "ready".
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import pg from "pg";

interface OrderBody {
  tenantId: string;
  customerId: string;
  customerEmail: string;
  items: { productId: string; quantity: number; unitPrice: number }[];
  shippingAddress: unknown;
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = Fastify();

app.post("/api/orders", async (request, reply) => {
  const body = request.body as OrderBody;
  const id = randomUUID();
  const total = body.items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ order_number: string; created_at: Date }>(
      `INSERT INTO orders (id, tenant_id, order_number, customer_id, customer_email, status, total_amount, currency, shipping_address)
       VALUES ($1, $2, 'ORD-' || nextval('order_number_seq'), $3, $4, 'pending', $5, 'USD', $6) RETURNING order_number, created_at`,
      [id, body.tenantId, body.customerId, body.customerEmail, total, JSON.stringify(body.shippingAddress)],
    );
    await client.query(
      `INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
       SELECT gen_random_uuid(), $1, (i->>'productId')::uuid, (i->>'quantity')::int, (i->>'unitPrice')::int FROM jsonb_array_elements($2::jsonb) i`,
      [id, JSON.stringify(body.items)],
    );
    const payload = { orderId: id, orderNumber: rows[0]!.order_number, tenantId: body.tenantId, customerId: body.customerId, customerEmail: body.customerEmail, totalAmount: total, currency: "USD", items: body.items, shippingAddress: body.shippingAddress, createdAt: rows[0]!.created_at.toISOString() };
    await client.query(
      `INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, tenant_id, payload) VALUES ('OrderCreated', 'order', $1, $2, $3)`,
      [id, body.tenantId, JSON.stringify(payload)],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
  return reply.status(201).send({ id });
});

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
process.send?.("ready");
process.on("SIGTERM", () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
