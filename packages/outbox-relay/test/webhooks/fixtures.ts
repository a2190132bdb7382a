import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@outbox/db";

export const encryptionKey = "test-encryption-key-with-32-chars-or-more";

export async function createTenant(prisma: PrismaClient): Promise<string> {
  const id = randomUUID();
  await prisma.tenant.create({ data: { id, name: "Acme", slug: `acme-${id.slice(0, 8)}` } });
  return id;
}
