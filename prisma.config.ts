// For users whose machines have Prisma's schema engine: `prisma migrate deploy` reads this file.
// The project applies the same migrations itself with `pnpm db:migrate` (packages/db/src/migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres:postgres@localhost:5432/outbox" },
});
