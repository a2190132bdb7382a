import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { deployDir } from "./files.ts";

export const promtoolMissing =
  "promtool is not installed: the alert rule tests need it. Install Debian's prometheus package, which ships it " +
  "(apt-get update && apt-get install -y --no-install-recommends prometheus; .ci/run does this), or put Prometheus' promtool on PATH.";

export interface PromtoolRun {
  code: number;
  output: string;
}

/**
 * Runs promtool in deploy/. A missing promtool throws with how to install it, so the tests that
 * need it fail rather than skip.
 */
export async function promtool(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<PromtoolRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)("promtool", args, { cwd: deployDir, env });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failed.code === "ENOENT") throw new Error(promtoolMissing, { cause: error });
    return { code: typeof failed.code === "number" ? failed.code : 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}
