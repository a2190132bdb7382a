import { queueNames } from "outbox-relay/events";
import { eventPath, outboxPath } from "./layout.ts";

const truth = `Redis's view. Postgres's event_outbox row is the truth: see ${outboxPath}.`;

/** What each queue is, and what Bull Board's buttons do (and do not do) to the Postgres row. */
const descriptions: Record<string, string> = {
  [queueNames.events]: `${truth} Retry runs the event again. Clean and delete remove only the Redis job: a dead row stays dead (and in dead-letter), a pending one is queued again by the rescuer. Edit changes only the job's data, not the row's payload. A dead event is listed both here (failed) and in dead-letter.`,
  [queueNames.webhooks]: `${truth} Webhook deliveries, one job per endpoint and event. Retry sends again; clean and delete remove only the Redis job; edit changes only the job's data.`,
  [queueNames.deadLetter]: `${truth} One entry per dead event (also listed as failed in its queue). Retry here retries the event (pending again, its job queued). Delete removes only this entry: the row stays dead and keeps holding its aggregate; use skip on the outbox page to pass over it.`,
  schedules: "The job schedulers (payment expiry, settlement, retention, stats). Their work is not outbox rows.",
};

/**
 * Options for a queue's BullMQAdapter: its description and, on every job, a link to its event's
 * row on the outbox page (the job id is the event id; a dead-letter entry names it in its data).
 */
export function bullBoardAdapterOptions(queueName: string): { description: string; externalJobUrl?: (job: { id?: string | number | null | undefined; data?: unknown }) => { displayText: string; href: string } } {
  const description = descriptions[queueName] ?? truth;
  if (queueName === "schedules") return { description };
  return {
    description,
    externalJobUrl: (job) => {
      const data = job.data as { eventId?: unknown } | undefined;
      const id = typeof data?.eventId === "string" ? data.eventId : String(job.id ?? "");
      return { displayText: "Its row on the outbox page (Postgres)", href: eventPath(id) };
    },
  };
}

/** Bull Board's header links to the outbox page. */
export const bullBoardUiConfig = {
  boardTitle: "Queues (Redis)",
  miscLinks: [{ text: "Outbox page (Postgres, the truth)", url: outboxPath }],
};
