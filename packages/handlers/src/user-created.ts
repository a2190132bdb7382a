import { PermanentError, type HandlerContext } from "@outbox/processor";
import { queueEmail } from "./emails.ts";

export const defaultUserPreferences = {
  language: "en",
  orderUpdates: true,
  newsletter: false,
} as const;

/** A profile with default preferences (kept if one exists) and a welcome email. */
export async function handleUserCreated(ctx: HandlerContext<"UserCreated">): Promise<void> {
  const { tx, event } = ctx;
  const { payload } = event;
  const user = await tx.user.findUnique({ where: { id: payload.userId }, select: { id: true } });
  if (!user) throw new PermanentError(`user ${payload.userId} does not exist`);
  await tx.userProfile.createMany({ data: [{ userId: user.id, preferences: defaultUserPreferences }], skipDuplicates: true });
  await queueEmail(tx, {
    eventId: event.id,
    tenantId: payload.tenantId,
    recipient: payload.email,
    template: "welcome",
    data: { role: payload.role },
  });
}
