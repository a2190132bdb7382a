import { batch } from "./types.ts";
import { type Queryable, sql } from "outbox-relay";
import { queueEmails } from "./emails.ts";
import { requireEach, uuidsOf } from "./ids.ts";

export const defaultUserPreferences = {
  language: "en",
  orderUpdates: true,
  newsletter: false,
} as const;

/** A profile with default preferences (kept if one exists) and a welcome email, per user. */
export const handleUserCreated = batch<"UserCreated">(async ({ tx, events }) => {
  const users = await findUsers(tx, events.map((event) => event.payload.userId));
  await createProfiles(tx, [...users.values()].map((user) => user.id));
  await queueEmails(tx, events.map(({ id, payload }) => ({
    eventId: id,
    tenantId: users.get(payload.userId)!.tenantId,
    recipient: payload.email,
    template: "welcome" as const,
    data: { role: payload.role },
  })));
});

/** findUsers: $1 the users' ids. No lock: a user row is never changed by events. A missing user is a PermanentError. */
async function findUsers(tx: Queryable, userIds: readonly string[]) {
  const rows = await tx.query<{ id: string; tenantId: string }>(sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId" FROM users WHERE id = ANY(${uuidsOf(userIds)}::uuid[])`);
  return requireEach("user", userIds, rows);
}

/** createProfiles: $1 the users' ids. One profile each with the default preferences; an existing one is kept. */
async function createProfiles(tx: Queryable, userIds: readonly string[]): Promise<void> {
  await tx.execute(sql`
    INSERT INTO user_profiles (user_id, preferences)
    SELECT DISTINCT id, ${JSON.stringify(defaultUserPreferences)}::jsonb FROM unnest(${userIds}::uuid[]) AS u(id)
    ON CONFLICT (user_id) DO NOTHING`);
}
