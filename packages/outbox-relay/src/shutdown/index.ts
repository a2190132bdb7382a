/** What one stop signal asks for, given the ones before it. */
export type StopRequest = "graceful" | "repeated" | "force";

export interface SignalRuleOptions {
  /** Signals within this long of the first count as the same request (up to the second one). */
  repeatWindowMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

export const defaultRepeatWindowMs = 2000;

/**
 * The stop-signal rule (see README.md): the first signal asks for a graceful stop; a second within
 * `repeatWindowMs` of the first is the same request (a terminal's Ctrl-C and pnpm's forwarded copy
 * of it); a third, or any signal later than the window, forces the stop.
 */
export function signalRule({ repeatWindowMs = defaultRepeatWindowMs, now = Date.now }: SignalRuleOptions = {}): () => StopRequest {
  let first: number | undefined;
  let count = 0;
  return () => {
    const at = now();
    count += 1;
    if (first === undefined) {
      first = at;
      return "graceful";
    }
    return count === 2 && at - first <= repeatWindowMs ? "repeated" : "force";
  };
}

export interface StopSignalHandlers {
  graceful(signal: NodeJS.Signals): void;
  force(signal: NodeJS.Signals): void;
  repeated?(signal: NodeJS.Signals): void;
}

/** Installs the rule on SIGINT and SIGTERM (one rule for both: a SIGINT then a SIGTERM is a repeat too). Returns the uninstaller. */
export function onStopSignals(handlers: StopSignalHandlers, options: SignalRuleOptions = {}): () => void {
  const next = signalRule(options);
  const onSignal = (signal: NodeJS.Signals) => {
    const request = next();
    if (request === "graceful") handlers.graceful(signal);
    else if (request === "repeated") handlers.repeated?.(signal);
    else handlers.force(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
