// Writes the ForwardForwardJob CRD generated from api/v1alpha1 to deploy/crd.
// `--check` writes nothing and fails when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_FILE, renderCrdYaml } from '../api/v1alpha1/index.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', CRD_FILE);
const wanted = renderCrdYaml();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is just stale.
  }
  if (current !== wanted) {
    console.error(`${CRD_FILE} is stale: run 'npm run crd' and commit the result`);
    process.exit(1);
  }
} else {
  writeFileSync(target, wanted);
  console.log(`wrote ${CRD_FILE}`);
}
