import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./servers.ts";

export interface PrivatePostgres {
  /** postgresql://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  port: number;
  /** The server's log (gone after `stop()`). */
  logFile: string;
  /** A fast restart (every connection is closed; the data stays). */
  restart(): void;
  /** A fast shutdown that keeps the data: the server is away until `resume()`. */
  pause(): void;
  /** Starts a paused server again, on the same port. */
  resume(): void;
  stop(): void;
}

const bin = () => execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();

/**
 * A Postgres server of the test's own (initdb in a temporary folder, on a free loopback port), for
 * tests that restart it: the shared server is never restarted. Runs as the `postgres` user when
 * the test runs as root (initdb refuses root).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "outbox-postgres-"));
  chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const asPostgres = (command: string, args: string[]) => {
    const argv = [path.join(bin(), command), ...args];
    if (process.getuid?.() === 0) execFileSync("su", ["postgres", "-s", "/bin/sh", "-c", argv.map(quote).join(" ")], { stdio: "ignore" });
    else execFileSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
  };
  const ctl = (...args: string[]) => asPostgres("pg_ctl", ["-D", data, "-w", ...args]);
  asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync"]);
  const start = () => ctl("-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "-l", path.join(dir, "log"), "start");
  start();
  return {
    port,
    logFile: path.join(dir, "log"),
    url: (database) => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    restart: () => ctl("-m", "fast", "restart"),
    pause: () => ctl("-m", "fast", "stop"),
    resume: start,
    stop() {
      ctl("-m", "immediate", "stop");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}
