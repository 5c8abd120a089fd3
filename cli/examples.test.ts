// Every example a user may copy is a job the CLI accepts and the workers can run.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { unsupportedFeatures } from '../api/v1alpha1/index.js';
import { readJob } from './job-file.js';

const EXAMPLES = 'deploy/examples';
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

void test('there are examples to check', () => assert.ok(files.length >= 3, files.join(', ')));

for (const file of files) {
  void test(`${EXAMPLES}/${file} is valid and runnable`, async () => {
    const job = await readJob(join(EXAMPLES, file));
    assert.equal(`${job.metadata.name}.yaml`, file, 'the job is named after its file');
    assert.deepEqual(unsupportedFeatures(job.spec), []);
  });
}
