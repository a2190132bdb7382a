import { describe, expect, it } from "vitest";
import { readDashboard, type DashboardPanel } from "./files.ts";
import { metricNames } from "./promql.ts";

const panelTypes = new Set(["row", "timeseries", "stat"]);
const gridWidth = 24;

function overlaps(a: DashboardPanel["gridPos"], b: DashboardPanel["gridPos"]): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe("deploy/grafana/outbox.json", () => {
  it("is a Grafana dashboard: uid, title, schema version, a Prometheus data source variable", async () => {
    const dashboard = await readDashboard();
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(Number.isInteger(dashboard.schemaVersion)).toBe(true);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: "datasource", type: "datasource", query: "prometheus" }));
  });

  it("lays out panels with unique ids, known types and grid positions that fit and never overlap", async () => {
    const { panels } = await readDashboard();
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    for (const panel of panels) {
      expect(panelTypes.has(panel.type), `${panel.title}: type ${panel.type}`).toBe(true);
      const { x, y, w, h } = panel.gridPos;
      expect(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= gridWidth, `${panel.title}: gridPos`).toBe(true);
    }
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) expect(overlaps(a.gridPos, b.gridPos), `${a.title} overlaps ${b.title}`).toBe(false);
    }
  });

  it("gives every panel Prometheus queries on the data source variable, each naming a metric", async () => {
    const panels = (await readDashboard()).panels.filter((panel) => panel.type !== "row");
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(panel.targets?.length, `${panel.title} has queries`).toBeGreaterThan(0);
      expect(new Set(panel.targets!.map((target) => target.refId)).size, `${panel.title} refIds`).toBe(panel.targets!.length);
      for (const target of panel.targets!) {
        expect(target.datasource, `${panel.title} ${target.refId}`).toEqual(panel.datasource);
        expect(metricNames(target.expr).length, `${panel.title} ${target.refId} names a metric`).toBeGreaterThan(0);
      }
    }
  });

  it("covers what on-call watches: throughput, lag, the DLQ, held aggregates, handler percentiles, webhook results", async () => {
    const names = new Set((await readDashboard()).panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricNames(target.expr))));
    for (const name of [
      "events_handled_total",
      "outbox_lag_seconds",
      "dead_letter_events",
      "held_aggregates",
      "event_handler_duration_seconds_bucket",
      "webhook_attempts_total",
      "outbox_dispatched_total",
      "outbox_relay_backlog_events",
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });
});
