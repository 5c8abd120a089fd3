// Every dashboard is valid for the Grafana schema version it declares. The schema is
// Grafana's own: @grafana/schema holds the TypeScript types generated from Grafana's CUE
// dashboard kind (its defaultDashboard carries the schemaVersion they describe), so each
// JSON file is type-checked as a literal of type Dashboard, which catches unknown fields,
// wrong types and values outside an enum. The rules those types cannot express (unique
// ids, the 24-column grid, variables that exist) are checked by hand.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultDashboard } from '@grafana/schema';
import ts from 'typescript';
import { DASHBOARD_FILES, GRAFANA_DIR, panelQueries, readDashboard, type DashboardJson, type PanelJson } from './dashboards.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// JSON cannot name a TypeScript string enum member, only its value: Json<T> turns every
// string enum into the union of its values and keeps everything else.
const PRELUDE = `import type { Dashboard } from '@grafana/schema';
type Json<T> = T extends string ? \`\${T}\` : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
`;

/** typeErrors type-checks each JSON text as a @grafana/schema Dashboard, in one program; returns the compiler's messages by name. */
function typeErrors(texts: Record<string, string>): Record<string, string[]> {
  // Files that exist only in memory, inside the repository so that node_modules resolves.
  const files = new Map(
    Object.entries(texts).map(([name, json], i) => [
      join(ROOT, 'test', 'observability', `__dashboard_${i}__.ts`),
      { name, source: `${PRELUDE}export const dashboard: Json<Dashboard> = ${json};\n` },
    ]),
  );
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, version, ...rest) => {
    const virtual = files.get(f);
    return virtual ? ts.createSourceFile(f, virtual.source, version) : getSourceFile.call(host, f, version, ...rest);
  };
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f)?.source ?? readFile.call(host, f);
  const program = ts.createProgram([...files.keys()], options, host);
  const out: Record<string, string[]> = Object.fromEntries(Object.keys(texts).map((name) => [name, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const where = d.file && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line - 1}: ` : '';
    const name = files.get(d.file?.fileName ?? '')?.name ?? 'program';
    (out[name] ??= []).push(`${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  return out;
}

function panelProblems(p: PanelJson): string[] {
  const { x, w, h } = p.gridPos;
  const problems =
    x < 0 || w < 1 || x + w > 24 || h < 1 ? [`${p.title}: gridPos ${JSON.stringify(p.gridPos)} outside the 24-column grid`] : [];
  if (p.type === 'row') return problems;
  if (p.datasource?.uid !== '${datasource}') problems.push(`${p.title}: datasource is not the $datasource variable`);
  const refIds = (p.targets ?? []).map((t) => t.refId);
  if (refIds.length === 0) problems.push(`${p.title}: no queries`);
  if (new Set(refIds).size !== refIds.length) problems.push(`${p.title}: refIds repeat`);
  return problems;
}

// The grid, ids and references that Grafana relies on but the types do not express.
function structuralProblems(d: DashboardJson): string[] {
  const ids = d.panels.map((p) => p.id);
  const problems = new Set(ids).size === ids.length ? [] : [`panel ids repeat: ${ids.join(',')}`];
  problems.push(...d.panels.flatMap(panelProblems));
  const variables = new Set(d.templating.list.map((v) => v.name));
  for (const q of panelQueries(d)) {
    const unknown = [...q.expr.matchAll(/\$\{?([a-zA-Z_]\w*)/g)].map((m) => m[1]!).filter((n) => !n.startsWith('__') && !variables.has(n));
    problems.push(...unknown.map((n) => `${q.panel}: $${n} is not a variable`));
  }
  return problems;
}

function broken(): Record<string, DashboardJson> {
  const d = readDashboard('ffjob-operator.json');
  return {
    'wrong type': { ...d, graphTooltip: 'shared' } as unknown as DashboardJson,
    'unknown field': { ...d, refreshh: '5s' } as unknown as DashboardJson,
    'bad enum value': { ...d, templating: { list: d.templating.list.map((v) => ({ ...v, type: 'regex' })) } },
    'off the grid': { ...d, panels: [{ ...d.panels[0]!, gridPos: { h: 8, w: 12, x: 18, y: 0 } }, ...d.panels] },
  };
}

void describe('Grafana dashboards', () => {
  const texts = Object.fromEntries(DASHBOARD_FILES.map((f) => [f, readFileSync(join(GRAFANA_DIR, f), 'utf8')]));
  const bad = broken();
  // One program for every file: loading Grafana's types takes seconds.
  const errors = typeErrors({ ...texts, ...Object.fromEntries(Object.entries(bad).map(([k, d]) => [k, JSON.stringify(d)])) });

  for (const file of DASHBOARD_FILES) {
    void it(`${file}: declares the schemaVersion of @grafana/schema and type-checks as its Dashboard`, () => {
      assert.equal((JSON.parse(texts[file]!) as DashboardJson).schemaVersion, defaultDashboard.schemaVersion);
      assert.deepEqual(errors[file], []);
    });

    void it(`${file}: unique panel ids, panels inside the grid, queries on $datasource, known variables`, () => {
      assert.deepEqual(structuralProblems(readDashboard(file)), []);
    });
  }

  void it('the checks find a wrong field type, an unknown field, a value outside an enum and a panel off the grid', () => {
    assert.deepEqual(errors.program, undefined, 'the prelude compiles');
    assert.match(errors['wrong type']!.join('\n'), /not assignable to type 'DashboardCursorSync/);
    assert.match(errors['unknown field']!.join('\n'), /'"refreshh"' does not exist in type/);
    assert.match(errors['bad enum value']!.join('\n'), /Type '"regex"' is not assignable to type 'VariableType'/);
    assert.match(structuralProblems(bad['off the grid']!).join('\n'), /panel ids repeat[\s\S]*outside the 24-column grid/);
  });
});
