import { maskUrlCredentials } from "outbox-relay";
import type { ClaimedEmail, SendResult } from "./claim.ts";
import { renderEmail } from "./templates.ts";
import type { EmailTransport } from "./transport.ts";

/**
 * Sends a batch through the transport, at most `concurrency` at a time, each within `timeoutMs`
 * (a send still running past it counts as failed; if it completes anyway the email may go out
 * twice, as with any retry). Never throws: each email gets its result.
 */
export async function sendBatch(
  transport: EmailTransport,
  emails: readonly ClaimedEmail[],
  { concurrency, timeoutMs }: { concurrency: number; timeoutMs: number },
): Promise<SendResult[]> {
  const results: SendResult[] = new Array<SendResult>(emails.length);
  let next = 0;
  const lane = async () => {
    while (next < emails.length) {
      const index = next++;
      const email = emails[index]!;
      results[index] = { id: email.id, lease: email.lease, error: await sendOne(transport, email, timeoutMs) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, emails.length) }, lane));
  return results;
}

/** Returns null when sent, else the error message (credentials masked, bounded). */
async function sendOne(transport: EmailTransport, email: ClaimedEmail, timeoutMs: number): Promise<string | null> {
  const { subject, text } = renderEmail(email.template, email.data);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`send did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([transport.send({ id: email.id, to: email.recipient, template: email.template, subject, text }), deadline]);
    return null;
  } catch (error) {
    return maskUrlCredentials(error instanceof Error ? error.message : String(error)).slice(0, 2000);
  } finally {
    clearTimeout(timer);
  }
}
