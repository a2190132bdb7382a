import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { queueNames } from "../events/index.ts";
import { schedulesQueueName } from "../schedules/index.ts";
import type { AdminContext } from "./context.ts";
import { boardPath, eventPath, outboxPath } from "./outbox-page/layout.ts";

const truth = `Redis's view. Postgres's event_outbox row is the truth: see ${outboxPath}.`;

/** What each queue is, and what Bull Board's buttons do (and do not do) to the Postgres row. */
const descriptions: Record<string, string> = {
  [queueNames.events]: `${truth} Retry runs the event again. Clean and delete remove only the Redis job: a dead row stays dead (and in dead-letter), a pending one is queued again by the rescuer. Edit changes only the job's data, not the row's payload. A dead event is listed both here (failed) and in dead-letter.`,
  [queueNames.webhooks]: `${truth} Calls out of the database (webhook deliveries), one job per event and receiver. Retry sends again; clean and delete remove only the Redis job; edit changes only the job's data.`,
  [queueNames.deadLetter]: `${truth} One entry per dead event (also listed as failed in its queue). Retry here retries the event (pending again, its job queued). Delete removes only this entry: the row stays dead and keeps holding its aggregate; use skip on the outbox page to pass over it.`,
  [schedulesQueueName]: "The job schedulers (the outbox retention, the stats line, the service's own schedules). Their work is not outbox rows.",
};

type JobLink = (job: { id?: string | number | null | undefined; data?: unknown }) => { displayText: string; href: string };

/**
 * Options for a queue's BullMQAdapter: its description and, on every job, a link to its event's
 * row on the outbox page (the job id is the event id; a dead-letter entry names it in its data).
 */
export function bullBoardAdapterOptions(queueName: string): { description: string; externalJobUrl?: JobLink } {
  const description = descriptions[queueName] ?? truth;
  if (queueName === schedulesQueueName) return { description };
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
const uiConfig = {
  boardTitle: "Queues (Redis)",
  miscLinks: [{ text: "Outbox page (Postgres, the truth)", url: outboxPath }],
};

/** Bull Board at /admin/queues, on the service's queues and the job schedulers' queue. */
export async function bullBoard(app: FastifyInstance, { queues }: AdminContext): Promise<void> {
  const schedules = new Queue(schedulesQueueName, { connection: queues.connection, prefix: queues.prefixOf(schedulesQueueName) });
  app.addHook("onClose", () => schedules.close());
  const board = new FastifyAdapter();
  createBullBoard({
    queues: [...queues.all(), schedules].map((queue) => new BullMQAdapter(queue, bullBoardAdapterOptions(queue.name))),
    serverAdapter: board,
    options: { uiConfig },
  });
  board.setBasePath(boardPath);
  await app.register(board.registerPlugin(), { prefix: boardPath });
}
