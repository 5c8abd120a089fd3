// The tiny job end to end on a real control plane: kubectl apply, the operator's pods run
// by the node agent as real workers over real gRPC, and the job ends Succeeded.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newNamespace } from '../integration/harness.js';
import { finished, startE2E, tinyJobYaml, type E2E } from './e2e.js';

let e2e: E2E;

before(async () => {
  e2e = await startE2E();
});

after(async () => {
  await e2e?.stop();
});

void describe('tiny job', () => {
  void it('ends Succeeded with the accuracy in the status and the model on the last pod', async () => {
    const ns = await newNamespace(e2e.kube, 'tiny');
    await e2e.kubectl(['apply', '-n', ns, '-f', '-'], await tinyJobYaml(e2e, 'tiny'));
    const job = await finished(e2e, ns, 'tiny', 180_000);
    assert.equal(job.status?.conditions?.at(-1)?.type, 'Succeeded', JSON.stringify(job.status));
    const accuracy = job.status?.testAccuracy ?? 0;
    assert.ok(accuracy > 0.7, `accuracy ${accuracy}`);
    const last = e2e.agent.pod(ns, 'tiny-g1-r0');
    assert.ok(last && existsSync(join(last.podDir, 'volumes', 'data', 'tiny-g1-r0', 'model', 'model.json')));
  });
});
