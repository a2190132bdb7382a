import { createPrisma, type PrismaClient } from "@outbox/db";
import { createTemplateDatabase, databaseUrl, deleteKeys, dropDatabase, redisUrl } from "@outbox/testing";

/** A migrated database and a Redis prefix of the bench's own, removed at the end. */
export interface BenchSetup {
  prisma: PrismaClient;
  dbUrl: string;
  prefix: string;
  /** The environment of measured processes. */
  env(overrides?: Record<string, string>): Record<string, string>;
  reset(): Promise<void>;
  /** Commits `count` valid TenantCreated rows in one statement. */
  insertBacklog(count: number, status?: "pending" | "processed"): Promise<void>;
  /**
   * Seeds 20 tenants with their users, products and pending orders, then commits `count` outbox
   * rows for them in one statement, in random order: a third UserCreated, a third ProductCreated,
   * a third OrderCreated (1 to 3 items on products of ample stock).
   */
  insertDomainBacklog(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function createBenchSetup(concurrency: number): Promise<BenchSetup> {
  const database = await createTemplateDatabase();
  const dbUrl = databaseUrl(database);
  const prefix = `outbox-bench-${process.pid}`;
  const prisma = createPrisma(dbUrl, { poolSize: 20 });
  return {
    prisma,
    dbUrl,
    prefix,
    env: (overrides = {}) => ({
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: String(concurrency),
      LOG_LEVEL: "warn",
      // Not a development start: no secrets generated into the repository's .env.
      NODE_ENV: "test",
      WORKER_PORT: "0",
      STATS_INTERVAL_MS: "600000",
      ...overrides,
    }),
    async reset() {
      await prisma.$executeRawUnsafe("TRUNCATE event_outbox, tenants, emails, category_product_counts CASCADE");
      await prisma.$executeRawUnsafe("VACUUM ANALYZE event_outbox");
      await deleteKeys(`${prefix}*`);
      await deleteKeys(`{${prefix}*`);
    },
    async insertBacklog(count, status = "pending") {
      await prisma.$executeRaw`
        INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, tenant_id, payload, status, processed_at)
        SELECT gen_random_uuid(), 'TenantCreated', 'tenant', 'bench-' || g, 'bench-' || g,
          jsonb_build_object('tenantId', 'bench-' || g, 'name', 'Bench', 'slug', 'bench-' || g,
                             'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
          ${status}, CASE WHEN ${status} = 'processed' THEN now() END
        FROM generate_series(1, ${count}::int) g`;
    },
    async insertDomainBacklog(count) {
      await prisma.$transaction(async (tx) => {
        for (const statement of domainSeed(Math.ceil(count / 3))) await tx.$executeRawUnsafe(statement);
      }, { timeout: 600_000 });
      await prisma.$executeRawUnsafe(`
        INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, tenant_id, payload)
        SELECT event_type, aggregate_type, aggregate_id, tenant_id, payload FROM (SELECT * FROM (
          SELECT 'UserCreated' AS event_type, 'user' AS aggregate_type, u.id::text AS aggregate_id, u.tenant_id::text AS tenant_id,
            jsonb_build_object('userId', u.id, 'tenantId', u.tenant_id, 'email', u.email, 'role', u.role, 'createdAt', ${isoNow}) AS payload
          FROM users u
          UNION ALL
          SELECT 'ProductCreated', 'product', p.id::text, p.tenant_id::text,
            jsonb_build_object('productId', p.id, 'tenantId', p.tenant_id, 'name', p.name, 'sellerId', p.seller_id,
              'categoryId', p.category_id, 'price', p.price, 'createdAt', ${isoNow})
          FROM products p
          UNION ALL
          SELECT 'OrderCreated', 'order', o.id::text, o.tenant_id::text,
            jsonb_build_object('orderId', o.id, 'orderNumber', o.order_number, 'tenantId', o.tenant_id, 'customerId', o.customer_id,
              'customerEmail', o.customer_email, 'totalAmount', o.total_amount, 'currency', o.currency,
              'items', (SELECT jsonb_agg(jsonb_build_object('productId', i.product_id, 'quantity', i.quantity, 'unitPrice', i.unit_price))
                        FROM order_items i WHERE i.order_id = o.id),
              'shippingAddress', o.shipping_address, 'createdAt', ${isoNow})
          FROM orders o) AS events
          ORDER BY random()
          LIMIT ${count}) AS e`);
    },
    async close() {
      await prisma.$disconnect();
      await deleteKeys(`${prefix}*`);
      await deleteKeys(`{${prefix}*`);
      await dropDatabase(database);
    },
  };
}

const isoNow = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** Tenants, users, products (stock for every order) and pending orders with items: `each` of users, products and orders. */
function domainSeed(each: number): string[] {
  const tenants = `(SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM tenants)`;
  return [
    `INSERT INTO tenants (id, name, slug) SELECT gen_random_uuid(), 'Bench ' || g, 'bench-' || g FROM generate_series(0, 19) g`,
    `INSERT INTO tenant_settings (tenant_id) SELECT id FROM tenants`,
    `INSERT INTO users (id, tenant_id, email, role)
       SELECT gen_random_uuid(), t.id, 'user' || g || '@example.com', 'customer' FROM generate_series(1, ${each}) g JOIN ${tenants} t ON t.k = g % 20`,
    `INSERT INTO products (id, tenant_id, seller_id, category_id, name, price, stock)
       SELECT gen_random_uuid(), t.id, gen_random_uuid(), 'category-' || (g % 50), 'Product ' || g, 500, 1000000
       FROM generate_series(1, ${each}) g JOIN ${tenants} t ON t.k = g % 20`,
    `INSERT INTO orders (id, tenant_id, order_number, customer_id, customer_email, status, total_amount, currency, shipping_address)
       SELECT gen_random_uuid(), t.id, 'BENCH-' || g, gen_random_uuid(), 'buyer' || g || '@example.com', 'pending', 0, 'USD',
         '{"firstName":"Ada","lastName":"Lovelace","address1":"1 Main St","city":"London","postalCode":"N1","country":"GB"}'::jsonb
       FROM generate_series(1, ${each}) g JOIN ${tenants} t ON t.k = g % 20`,
    `WITH ranked AS (SELECT id, tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) - 1 AS r, count(*) OVER (PARTITION BY tenant_id) AS c FROM products),
          numbered AS (SELECT id, tenant_id, row_number() OVER (ORDER BY id) AS g FROM orders)
     INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
       SELECT gen_random_uuid(), o.id, p.id, 1 + (o.g + j) % 3, 500
       FROM numbered o CROSS JOIN generate_series(0, (o.g % 3)::int) j
       JOIN ranked p ON p.tenant_id = o.tenant_id AND p.r = (o.g * 7 + j * 13) % p.c`,
    `UPDATE orders o SET total_amount = (SELECT sum(quantity * unit_price) FROM order_items i WHERE i.order_id = o.id)`,
  ];
}
