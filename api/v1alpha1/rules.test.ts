import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec, RULES, SPEC_OPENAPI, type ForwardForwardJobSpecInput } from './index.js';
import type { OpenApiSchema } from './openapi.js';

// One spec per rule that breaks it and nothing else; the last entry of RULES first fails.
const violations: { name: string; spec: ForwardForwardJobSpecInput }[] = [
  { name: 'three workers for two layers', spec: { model: { layers: [5, 5] }, parallelism: { workers: 3 } } },
  { name: 'a rotating ring of one', spec: { model: { layers: [5, 5] }, parallelism: { schedule: 'rotating', workers: 1 } } },
  {
    name: 'federated workers streaming activations',
    spec: { model: { layers: [5, 5] }, parallelism: { schedule: 'federated', workers: 2, exchange: 'activations' } },
  },
  {
    name: 'five DASO replicas in nodes of two',
    spec: { model: { layers: [5, 5] }, parallelism: { replicasPerGroup: 5, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } } },
  },
  {
    name: 'DASO over a single node of two replicas',
    spec: { model: { layers: [5, 5] }, parallelism: { replicasPerGroup: 2, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } } },
  },
  {
    name: 'a global skip of 16 that resets to 8',
    spec: { model: { layers: [5, 5] }, parallelism: { sync: { daso: { globalSkip: 16 } } } },
  },
  {
    name: 'waiting 3 steps between syncs 2 steps apart',
    spec: { model: { layers: [5, 5] }, parallelism: { sync: { daso: { globalSkip: 2, batchesToWait: 3 } } } },
  },
  {
    name: 'resetting to wait 9 steps between syncs 8 steps apart',
    spec: { model: { layers: [5, 5] }, parallelism: { sync: { daso: { maxBatchesToWait: 9 } } } },
  },
  {
    name: 'signSGD in a group of one replica',
    spec: { model: { layers: [5, 5] }, parallelism: { sync: { strategy: 'signSGD' } } },
  },
  {
    name: 'per-replica batches under allreduce',
    spec: { model: { layers: [5, 5] }, parallelism: { replicasPerGroup: 2, sync: { signSGD: { batchSizes: [10, 30] } } } },
  },
  {
    name: 'three batches for two signSGD replicas',
    spec: {
      model: { layers: [5, 5] },
      parallelism: { replicasPerGroup: 2, sync: { strategy: 'signSGD', signSGD: { batchSizes: [10, 20, 30] } } },
    },
  },
  {
    name: 'consensus over two replicas of degree 2',
    spec: { model: { layers: [5, 5] }, parallelism: { replicasPerGroup: 2, sync: { strategy: 'consensus' } } },
  },
  {
    name: 'consensus over three replicas of degree 1',
    spec: { model: { layers: [5, 5] }, parallelism: { replicasPerGroup: 3, sync: { strategy: 'consensus', consensus: { degree: 1 } } } },
  },
  {
    name: 'a step size that decays to 0 at once',
    spec: { model: { layers: [5, 5] }, parallelism: { sync: { consensus: { stepSize: { initial: 0.5, decay: 2 } } } } },
  },
  { name: 'a one-layer softmax from layer 1', spec: { model: { layers: [5] } } },
  {
    name: 'localSoftmax predicting by goodness',
    spec: { model: { layers: [5, 5], objective: 'localSoftmax', classifier: { name: 'goodness' } } },
  },
  { name: 'idx with no path', spec: { model: { layers: [5, 5] }, dataset: { name: 'idx' } } },
  { name: 'mnist said to be 32×32×3 wide', spec: { model: { layers: [5, 5] }, dataset: { inputSize: 3072 } } },
  { name: '101 chapters in one epoch', spec: { model: { layers: [5, 5] }, training: { epochs: 1, chapters: 101 } } },
  { name: 'both ports 8080', spec: { model: { layers: [5, 5] }, worker: { port: 8080, metricsPort: 8080 } } },
];

function schemaAt(path: string): OpenApiSchema | undefined {
  let node: OpenApiSchema | undefined = SPEC_OPENAPI;
  for (const part of path.split('.').slice(1)) node = node?.properties?.[part];
  return node;
}

void describe('RULES', () => {
  void it('each has a path under spec, a message and a CEL expression', () => {
    for (const rule of RULES) {
      assert.match(rule.path, /^spec\.[a-zA-Z.]+$/);
      assert.ok(schemaAt(rule.path), `${rule.path} is not a field of the schema`);
      assert.ok(rule.message.length > 20 && !rule.message.includes('\n'), rule.path);
      assert.match(rule.cel, /self\./);
    }
  });

  void it('every field a CEL expression reads exists in the schema', () => {
    for (const rule of RULES) {
      for (const [, field] of rule.cel.matchAll(/self\.([a-zA-Z.]+)/g)) {
        assert.ok(schemaAt(`spec.${field}`), `${rule.cel}: no field spec.${field}`);
      }
    }
  });

  void it('a minimal spec satisfies every rule', () => {
    const spec = defaultSpec({ model: { layers: [5, 5] } });
    for (const rule of RULES) assert.ok(rule.holds(spec), rule.cel);
  });

  for (const [i, v] of violations.entries()) {
    void it(`${v.name} breaks exactly the rule "${RULES[i]?.cel}"`, () => {
      const spec = defaultSpec(v.spec);
      const broken = RULES.filter((r) => !r.holds(spec)).map((r) => r.cel);
      assert.deepEqual(broken, [RULES[i]?.cel]);
    });
  }

  void it('has a violation case for every rule', () => {
    assert.equal(violations.length, RULES.length);
  });
});
