import pg from "pg";

export const outboxChannel = "event_outbox";

export interface OutboxListener {
  close(): Promise<void>;
}

export interface ListenOptions {
  databaseUrl: string;
  /** Called after every commit that wrote claimable rows (bursts arrive as many calls). */
  onNotify: () => void;
  /** Called when the connection fails; the listener reconnects by itself. */
  onError?: (error: Error) => void;
  reconnectDelayMs?: number;
}

/**
 * Holds one connection that LISTENs on the outbox channel and reconnects when it drops, or when
 * the first connection cannot be made (Postgres not up yet: the start goes on, onError says why).
 * After a reconnect it calls onNotify once, since notifications sent meanwhile are lost.
 */
export async function listenForOutbox({ databaseUrl, onNotify, onError, reconnectDelayMs = 1000 }: ListenOptions): Promise<OutboxListener> {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on("notification", () => onNotify());
    next.on("error", (error) => {
      onError?.(error);
      void next.end().catch(() => undefined);
      scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${outboxChannel}`);
    } catch (error) {
      void next.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
  };

  const scheduleReconnect = () => {
    client = undefined;
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(onNotify, (error: Error) => {
        onError?.(error);
        scheduleReconnect();
      });
    }, reconnectDelayMs);
  };

  await connect().catch((error: Error) => {
    onError?.(error);
    scheduleReconnect();
  });
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
