import { describe, expect, it } from "vitest";
import { headingAnchors, readAlertRules, readRuleTests, readYaml } from "./files.ts";
import { promtool, promtoolMissing } from "./promtool.ts";

const severities = ["critical", "warning"];

describe("deploy/prometheus/alerts.yml", () => {
  it("is a valid rule file (promtool check rules)", async () => {
    const run = await promtool(["check", "rules", "prometheus/alerts.yml"]);
    expect(run.output).toContain("SUCCESS");
    expect(run.code, run.output).toBe(0);
  });

  it("passes its unit tests (promtool test rules alerts.test.yml)", async () => {
    const run = await promtool(["test", "rules", "prometheus/alerts.test.yml"]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("SUCCESS");
  });

  it("has, for every alert, a test case where it fires and one where it stays quiet", async () => {
    const cases = (await readRuleTests()).flatMap((group) => group.alert_rule_test ?? []);
    for (const { alert } of await readAlertRules()) {
      const own = cases.filter((test) => test.alertname === alert);
      expect(own.some((test) => (test.exp_alerts ?? []).length > 0), `${alert} fires in a test`).toBe(true);
      expect(own.some((test) => (test.exp_alerts ?? []).length === 0), `${alert} stays quiet in a test`).toBe(true);
    }
  });

  it("gives every alert a summary, a description, a severity and a runbook section that exists", async () => {
    const anchors = await headingAnchors("docs/on-call.md");
    const rules = await readAlertRules();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const { alert, labels, annotations } of rules) {
      expect(annotations?.summary, `${alert} summary`).toBeTruthy();
      expect(annotations?.description, `${alert} description`).toBeTruthy();
      expect(severities, `${alert} severity`).toContain(labels?.severity);
      expect(annotations?.runbook_url, `${alert} runbook_url`).toBe(`docs/on-call.md#${alert.toLowerCase()}`);
      expect(anchors.has(alert.toLowerCase()), `docs/on-call.md has a section "${alert}"`).toBe(true);
    }
  });

  it("is loaded by the example Prometheus configuration (promtool check config)", async () => {
    const run = await promtool(["check", "config", "prometheus/prometheus.yml"]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("1 rule files found");
  });

  it("fails with how to install promtool when it is missing, instead of skipping", async () => {
    await expect(promtool(["--version"], { ...process.env, PATH: "/nonexistent" })).rejects.toThrow(promtoolMissing);
    expect(promtoolMissing).toContain("apt-get install -y --no-install-recommends prometheus");
  });
});

interface AlertmanagerConfig {
  route: { receiver: string; routes?: { matchers: string[]; receiver: string }[] };
  receivers: { name: string; webhook_configs?: { url: string }[] }[];
  inhibit_rules?: { source_matchers: string[]; target_matchers: string[] }[];
}

describe("deploy/alertmanager.yml", () => {
  it("routes every severity the rules use to a webhook receiver it defines", async () => {
    const config = await readYaml<AlertmanagerConfig>("alertmanager.yml");
    const receivers = new Map(config.receivers.map((receiver) => [receiver.name, receiver]));
    const used = new Set((await readAlertRules()).map((rule) => rule.labels?.severity));
    for (const severity of used) {
      const route = config.route.routes?.find((candidate) => candidate.matchers.includes(`severity="${severity}"`));
      expect(route, `a route for severity ${severity}`).toBeDefined();
      expect(receivers.get(route!.receiver)?.webhook_configs?.length, `receiver ${route!.receiver}`).toBeGreaterThan(0);
    }
    expect(receivers.has(config.route.receiver)).toBe(true);
  });

  it("inhibits only alerts that exist", async () => {
    const config = await readYaml<AlertmanagerConfig>("alertmanager.yml");
    const alerts = new Set((await readAlertRules()).map((rule) => rule.alert));
    const named = (config.inhibit_rules ?? []).flatMap((rule) => [...rule.source_matchers, ...rule.target_matchers]);
    for (const matcher of named) expect(alerts.has(/^alertname="(.+)"$/.exec(matcher)?.[1] ?? ""), matcher).toBe(true);
  });
});
