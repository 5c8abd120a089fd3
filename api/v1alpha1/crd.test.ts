import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CRD_FILE, crdObject, renderCrdYaml } from './index.js';
import type { OpenApiSchema } from './openapi.js';

const root = new URL('../../', import.meta.url);

function walk(node: OpenApiSchema, name: string, visit: (node: OpenApiSchema, name: string) => void): void {
  visit(node, name);
  for (const [child, schema] of Object.entries(node.properties ?? {})) walk(schema, child, visit);
  if (node.items) walk(node.items, name, visit);
}

function specSchema(): OpenApiSchema {
  const crd = crdObject() as { spec: { versions: { schema: { openAPIV3Schema: OpenApiSchema } }[] } };
  const rootSchema = crd.spec.versions[0]?.schema.openAPIV3Schema as OpenApiSchema;
  return rootSchema.properties?.spec as OpenApiSchema;
}

void describe('CRD', () => {
  void it(`${CRD_FILE} is what scripts/gen-crd.ts generates now (run npm run crd if not)`, () => {
    assert.equal(readFileSync(new URL(CRD_FILE, root), 'utf8'), renderCrdYaml());
  });

  void it('parses back to the object', () => {
    assert.deepEqual(parse(renderCrdYaml()), crdObject());
  });

  void it('gives every spec field a type and a description that starts with its name', () => {
    walk(specSchema(), 'spec', (node, name) => {
      assert.ok(node.type, `${name} has no type`);
      assert.ok(node.description?.startsWith(`${name} `), `${name}: description ${JSON.stringify(node.description)}`);
    });
  });

  void it('never marks a defaulted field required', () => {
    walk(specSchema(), 'spec', (node) => {
      for (const r of node.required ?? []) assert.equal(node.properties?.[r]?.default, undefined, r);
    });
  });

  void it('uses only the boolean exclusive bounds of OpenAPI v3.0', () => {
    walk(specSchema(), 'spec', (node, name) => {
      for (const b of [node.exclusiveMinimum, node.exclusiveMaximum]) assert.ok(b === undefined || b === true, name);
    });
  });

  void it('keeps the embedded Kubernetes objects as written', () => {
    const worker = specSchema().properties?.worker?.properties ?? {};
    assert.equal(worker.resources?.['x-kubernetes-preserve-unknown-fields'], true);
    assert.equal(worker.template?.['x-kubernetes-preserve-unknown-fields'], true);
  });
});
