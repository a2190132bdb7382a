import { describe, expect, it } from "vitest";
import { exposedNames, metricNames } from "./promql.ts";

describe("metricNames", () => {
  it.each([
    ["max(outbox_lag_seconds) > 300", ["outbox_lag_seconds"]],
    ['up{job=~"outbox-api|outbox-worker"} == 0', ["up"]],
    [
      "sum by (type) (rate(events_failed_total[5m])) / (sum by (type) (rate(events_handled_total[5m])) or vector(0)) > 0.1",
      ["events_failed_total", "events_handled_total"],
    ],
    ["histogram_quantile(0.99, sum by (le, type) (rate(event_handler_duration_seconds_bucket[$__rate_interval])))", ["event_handler_duration_seconds_bucket"]],
    ["max(dead_letter_events) > max(dead_letter_events offset 10m) and on() held_aggregates > 1e3", ["dead_letter_events", "held_aggregates"]],
    ['label_replace(absent(up{job="outbox-worker"} == 1), "job", "outbox-worker", "", "")', ["up"]],
    ["time() - max(outbox_relay_last_step_timestamp_seconds) > 120", ["outbox_relay_last_step_timestamp_seconds"]],
    ['sum(rate(webhook_attempts_total{result!="success"}[5m])) without (instance)', ["webhook_attempts_total"]],
    ["max_over_time(queue_jobs[10m:1m]) * on(queue) group_left(state) outbox_events_total", ["queue_jobs", "outbox_events_total"]],
  ])("%s", (expr, names) => {
    expect(metricNames(expr).sort()).toEqual([...names].sort());
  });
});

describe("exposedNames", () => {
  it("reads declared metrics with no sample, histogram series and sample lines", () => {
    const text = [
      "# HELP events_dead_total Dead.",
      "# TYPE events_dead_total counter",
      "# TYPE event_handler_duration_seconds histogram",
      'event_handler_duration_seconds_bucket{le="0.1",type="A"} 1',
      "outbox_lag_seconds 1.5",
      "",
    ].join("\n");
    expect([...exposedNames(text)].sort()).toEqual([
      "event_handler_duration_seconds",
      "event_handler_duration_seconds_bucket",
      "event_handler_duration_seconds_count",
      "event_handler_duration_seconds_sum",
      "events_dead_total",
      "outbox_lag_seconds",
    ]);
  });
});
