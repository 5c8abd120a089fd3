import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { dasoPlacement } from './daso-placement.js';
import { desiredPod, slots } from './desired.js';
import { DASO_NODE_LABEL, GROUP_LABEL, JOB_NAME_LABEL } from './labels.js';

function job(strategy: 'allreduce' | 'daso', replicas: number, replicasPerNode: number): ForwardForwardJob {
  const j = makeJob('j', 'ns').workers(2).replicas(replicas).obj();
  j.spec.parallelism.sync.strategy = strategy;
  j.spec.parallelism.sync.daso.replicasPerNode = replicasPerNode;
  return j;
}

// The required term that binds a pod to the pods of its job, group and DASO node.
function term(group: number, node: number): object {
  return {
    labelSelector: { matchLabels: { [JOB_NAME_LABEL]: 'j', [GROUP_LABEL]: String(group), [DASO_NODE_LABEL]: String(node) } },
    topologyKey: 'kubernetes.io/hostname',
  };
}

void describe('DASO placement', () => {
  void it('dasoPlacement: a DASO node of several replicas shares a host; nothing else is constrained', () => {
    const cases = [
      {
        name: 'allreduce: no label, no affinity',
        job: job('allreduce', 4, 2),
        slot: { group: 0, replica: 3 },
        wantNode: undefined,
        wantTerm: undefined,
      },
      { name: 'daso, replica 0 opens node 0', job: job('daso', 4, 2), slot: { group: 0, replica: 0 }, wantNode: '0', wantTerm: term(0, 0) },
      { name: 'daso, replica 1 joins node 0', job: job('daso', 4, 2), slot: { group: 0, replica: 1 }, wantNode: '0', wantTerm: term(0, 0) },
      { name: 'daso, replica 2 opens node 1', job: job('daso', 4, 2), slot: { group: 0, replica: 2 }, wantNode: '1', wantTerm: term(0, 1) },
      {
        name: 'daso, group 1 has its own nodes',
        job: job('daso', 4, 2),
        slot: { group: 1, replica: 3 },
        wantNode: '1',
        wantTerm: term(1, 1),
      },
      { name: 'daso, nodes of three', job: job('daso', 6, 3), slot: { group: 0, replica: 5 }, wantNode: '1', wantTerm: term(0, 1) },
      {
        name: 'daso, a node of one replica goes anywhere',
        job: job('daso', 4, 1),
        slot: { group: 0, replica: 3 },
        wantNode: '3',
        wantTerm: undefined,
      },
    ];
    for (const c of cases) {
      const got = dasoPlacement(c.job, c.slot);
      assert.equal(got.labels[DASO_NODE_LABEL], c.wantNode, c.name);
      assert.deepEqual(got.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution, c.wantTerm && [c.wantTerm], c.name);
    }
  });

  void it('desiredPod carries the DASO node label and the affinity', () => {
    const j = job('daso', 4, 2);
    const pod = desiredPod(j, slots(j)[6]!, 0);
    assert.equal(pod.metadata?.name, 'j-g1-r2');
    assert.equal(pod.metadata?.labels?.[DASO_NODE_LABEL], '1');
    assert.deepEqual(pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution, [term(1, 1)]);
  });

  void it('a template with its own affinity keeps the DASO term beside its own', () => {
    const j = job('daso', 4, 2);
    const gpuPool = { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }] }] };
    const theirTerm = { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' };
    j.spec.worker.template = {
      spec: {
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: gpuPool },
          podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [theirTerm] },
        },
      },
    };
    const affinity = desiredPod(j, slots(j)[0]!, 0).spec?.affinity;
    assert.deepEqual(affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, gpuPool);
    assert.deepEqual(affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution, [term(0, 0), theirTerm]);
  });
});
