// The quick example as a user runs it: `kubectl apply -f deploy/examples/mnist-quick.yaml`
// on a real control plane, the operator's two worker pods run as real processes (the test
// node agent), train full MNIST over real gRPC, and the job ends Succeeded with its test
// accuracy in `kubectl get` and its events in `kubectl describe`. About 5 minutes on 2 cores.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newNamespace } from '../integration/harness.js';
import { CHECKOUT, finished, startE2E, type E2E } from './e2e.js';

let e2e: E2E;

before(async () => {
  e2e = await startE2E();
});

after(async () => {
  await e2e?.stop();
});

void describe('deploy/examples/mnist-quick.yaml', () => {
  void it('kubectl apply ends Succeeded with the accuracy, the model written and the events described', async (t) => {
    const ns = await newNamespace(e2e.kube, 'quick');
    await e2e.kubectl(['apply', '-n', ns, '-f', join(CHECKOUT, 'deploy/examples/mnist-quick.yaml')]);
    const job = await finished(e2e, ns, 'mnist-quick', 15 * 60_000);
    assert.equal(job.status?.conditions?.at(-1)?.type, 'Succeeded', JSON.stringify(job.status));
    const accuracy = job.status?.testAccuracy ?? 0;
    t.diagnostic(`accuracy ${accuracy}`);
    // The example reaches 97.5-97.7% locally; a drop below 97% means training went wrong.
    assert.ok(accuracy > 0.97, `accuracy ${accuracy}`);

    const table = await e2e.kubectl(['get', 'ffjob', '-n', ns]);
    assert.match(table, /TEST ACCURACY/);
    assert.match(table, new RegExp(`mnist-quick\\s+Succeeded\\s+2/2\\s+\\S+\\s+${accuracy}\\s`), table);

    const last = e2e.agent.pod(ns, 'mnist-quick-g1-r0');
    assert.ok(last, 'the last group ran');
    const modelDir = join(last.podDir, 'volumes', 'data', 'mnist-quick-g1-r0', 'model');
    const model = JSON.parse(await readFile(join(modelDir, 'ff.json'), 'utf8')) as { testAccuracy?: number; layers?: number[] };
    assert.equal(model.testAccuracy, accuracy);
    assert.deepEqual(model.layers, [1000, 400]);
    const manifest = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as { weightsManifest?: unknown[] };
    assert.ok((manifest.weightsManifest ?? []).length > 0, 'model.json has a weights manifest');

    const described = await e2e.kubectl(['describe', 'ffjob', 'mnist-quick', '-n', ns]);
    assert.match(described, /Events:/);
    for (const event of ['Created pod: mnist-quick-g0-r0', 'Created pod: mnist-quick-g1-r0', 'AllWorkersSucceeded']) {
      assert.ok(described.includes(event), `kubectl describe lacks "${event}":\n${described}`);
    }
  });
});
