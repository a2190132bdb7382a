import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { SoakResult } from "./soak.ts";

interface Point {
  minute: number;
  series: string;
  value: number;
  panel: string;
}

function points(result: SoakResult): Point[] {
  const out: Point[] = [];
  for (const sample of result.samples) {
    const minute = Math.round((sample.t / 60) * 100) / 100;
    for (const [name, figures] of Object.entries(sample.processes)) {
      if (!figures) continue;
      out.push({ minute, series: `${name} RSS`, value: figures.rssMb, panel: "process memory (MB)" });
      out.push({ minute, series: `${name} heap`, value: figures.heapMb, panel: "process memory (MB)" });
    }
    if (sample.redis) {
      out.push({ minute, series: "used_memory (MB)", value: sample.redis.usedMemoryMb, panel: "Redis" });
      out.push({ minute, series: "keys / 100", value: sample.redis.keys / 100, panel: "Redis" });
    }
    if (sample.outbox) {
      out.push({ minute, series: "rows / 1000", value: sample.outbox.rows / 1000, panel: "event_outbox" });
      out.push({ minute, series: "dead tuples / 1000", value: sample.outbox.deadTuples / 1000, panel: "event_outbox" });
      out.push({ minute, series: "size (MB)", value: sample.outbox.sizeMb, panel: "event_outbox" });
    }
    out.push({ minute, series: "handled events/s", value: sample.handledPerSecond, panel: "throughput and lag" });
    if (sample.lagMs !== null) out.push({ minute, series: "lag (ms)", value: sample.lagMs, panel: "throughput and lag" });
  }
  return out;
}

/** The soak's samples as one SVG: four panels over time, with a rule at each fault. Drawn by Vega-Lite. */
export async function plotSoak(result: SoakResult): Promise<string> {
  const faults = result.faults.map((f) => ({ minute: f.at / 60, fault: f.fault }));
  const panel = (title: string) => ({
    title,
    width: 900,
    height: 180,
    layer: [
      {
        data: { values: points(result).filter((p) => p.panel === title) },
        mark: { type: "line", strokeWidth: 1.2 },
        encoding: {
          x: { field: "minute", type: "quantitative", title: "minutes" },
          y: { field: "value", type: "quantitative", title: null },
          color: { field: "series", type: "nominal", title: null },
        },
      },
      { data: { values: faults }, mark: { type: "rule", strokeDash: [3, 3], color: "#999" }, encoding: { x: { field: "minute", type: "quantitative" } } },
    ],
  });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `soak: ${result.options.minutes} min, a fault every ${result.options.faultEverySeconds / 60} min (dashed)`,
    vconcat: ["process memory (MB)", "Redis", "event_outbox", "throughput and lag"].map(panel),
    resolve: { scale: { color: "independent" } },
  } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}
