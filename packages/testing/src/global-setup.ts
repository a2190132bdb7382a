import { createTemplateDatabase, dropDatabase } from "./database.ts";

/** Vitest global setup: one migrated template per run, cloned by each test file. */
export default async function setup(): Promise<() => Promise<void>> {
  const template = await createTemplateDatabase();
  process.env.OUTBOX_TEST_TEMPLATE = template;
  return () => dropDatabase(template);
}
