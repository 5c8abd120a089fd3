// The Grafana dashboards shipped in deploy/grafana (and, through symbolic links, in the
// chart), and the PromQL they hold, as Grafana would send it to Prometheus.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GRAFANA_DIR = fileURLToPath(new URL('../../deploy/grafana/', import.meta.url));
export const DASHBOARD_FILES = ['ffjob-training.json', 'ffjob-operator.json'] as const;

interface Target {
  refId: string;
  expr: string;
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

interface VariableJson {
  name: string;
  type: string;
  /** query is the Prometheus data source's variable query: {qryType, query, refId}. */
  query?: string | { query?: string };
}

export interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
}

export function readDashboard(file: string): DashboardJson {
  return JSON.parse(readFileSync(join(GRAFANA_DIR, file), 'utf8')) as DashboardJson;
}

/** Query is one PromQL expression of a panel. */
export interface Query {
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(d: DashboardJson): Query[] {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
}

/** LabelValuesQuery is a query variable `label_values(selector, label)`. */
export interface LabelValuesQuery {
  variable: string;
  selector: string;
  label: string;
}

export function variableQueries(d: DashboardJson): LabelValuesQuery[] {
  return d.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(query);
      if (!m) throw new Error(`variable ${v.name}: expected label_values(selector, label), got ${query}`);
      return { variable: v.name, selector: m[1]!, label: m[2]! };
    });
}

/** Intervals stand for Grafana's built-in interval variables at the time range queried. */
export interface Intervals {
  rateInterval: string;
  range: string;
}

/**
 * substitute does what Grafana does before it sends a query: every dashboard variable
 * becomes a regex matching all of its values (the "All" choice, allValue ".*"), and the
 * built-in intervals their values.
 */
export function substitute(expr: string, d: DashboardJson, i: Intervals): string {
  const names = new Set(d.templating.list.map((v) => v.name));
  const out = expr
    .replaceAll('$__rate_interval', i.rateInterval)
    .replaceAll('$__range', i.range)
    .replace(/\$\{?([a-zA-Z_]\w*)\}?/g, (m: string, name: string) => (names.has(name) ? '.*' : m));
  if (out.includes('$')) throw new Error(`unknown variable left in ${out}`);
  return out;
}
