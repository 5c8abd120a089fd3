// Writes the files generated from api/v1alpha1: the ForwardForwardJob CRD
// (deploy/crd) and the worker host-access admission policy (a chart template).
// `--check` writes nothing and fails when a committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_FILE, POLICY_TEMPLATE_FILE, renderCrdYaml, renderPolicyTemplate } from '../api/v1alpha1/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files: [string, string][] = [
  [CRD_FILE, renderCrdYaml()],
  [POLICY_TEMPLATE_FILE, renderPolicyTemplate()],
];

function current(path: string): string {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    // A missing file is just stale.
    return '';
  }
}

if (process.argv.includes('--check')) {
  const stale = files.filter(([path, wanted]) => current(path) !== wanted).map(([path]) => path);
  if (stale.length > 0) {
    console.error(`${stale.join(', ')} stale: run 'npm run crd' and commit the result`);
    process.exit(1);
  }
} else {
  for (const [path, wanted] of files) {
    writeFileSync(join(root, path), wanted);
    console.log(`wrote ${path}`);
  }
}
