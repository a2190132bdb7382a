import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";

/** The deploy folder: promtool runs here, so rule files resolve as Prometheus would load them. */
export const deployDir = path.resolve(import.meta.dirname, "..");
export const repositoryDir = path.resolve(deployDir, "..");

export async function readYaml<T>(file: string): Promise<T> {
  return parse(await readFile(path.join(deployDir, file), "utf8")) as T;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export async function readAlertRules(): Promise<AlertRule[]> {
  const file = await readYaml<{ groups: { rules: AlertRule[] }[] }>("prometheus/alerts.yml");
  return file.groups.flatMap((group) => group.rules);
}

export interface RuleTestGroup {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
}

export async function readRuleTests(): Promise<RuleTestGroup[]> {
  return (await readYaml<{ tests: RuleTestGroup[] }>("prometheus/alerts.test.yml")).tests;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: string }[] };
  panels: DashboardPanel[];
}

export async function readDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(path.join(deployDir, "grafana/outbox.json"), "utf8")) as Dashboard;
}

/** The anchors GitHub gives a markdown file's headings ("## OutboxLagHigh" → "outboxlaghigh"). */
export async function headingAnchors(file: string): Promise<Set<string>> {
  const text = await readFile(path.join(repositoryDir, file), "utf8");
  const headings = text.split("\n").filter((line) => /^#{1,6} /.test(line));
  return new Set(
    headings.map((line) =>
      line
        .replace(/^#+ /, "")
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, "")
        .replace(/ /g, "-"),
    ),
  );
}
