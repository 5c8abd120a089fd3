// The CRD on a real API server: it installs, `kubectl explain` shows the descriptions, and
// invalid specs are rejected with the same messages `ffjob validate` gives (validateSpec),
// so the CLI and the cluster never disagree about a job.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_VERSION, KIND, validateJob, validateSpec } from '../../api/v1alpha1/index.js';
import { KubeError } from '../../operator/kube/client.js';
import { eventually, jobsPath, newNamespace, startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
let ns: string;

before(async () => {
  cluster = await startCluster();
  ns = await newNamespace(cluster.kube, 'crd');
});

after(async () => {
  await cluster?.cp.stop();
});

interface Cause {
  field?: string;
  message?: string;
}

// The API server's rejection: the message kubectl prints, and its causes.
async function rejection(spec: unknown): Promise<{ message: string; causes: string[] }> {
  return rejectionOf({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'bad', namespace: ns }, spec });
}

async function rejectionOf(body: Record<string, unknown>): Promise<{ message: string; causes: string[] }> {
  try {
    await cluster.kube.request('POST', jobsPath(ns), { body, query: { fieldValidation: 'Strict', dryRun: 'All' } });
  } catch (err) {
    assert.ok(err instanceof KubeError);
    return { message: err.message, causes: err.causes.map((c: Cause) => `${c.field}: ${c.message}`) };
  }
  return { message: '', causes: [] };
}

const base = (): Record<string, Record<string, unknown>> => ({ model: { layers: [100, 100] } });
const edit = (f: (s: Record<string, Record<string, unknown>>) => void): unknown => {
  const s = base();
  f(s);
  return s;
};

const INVALID: { name: string; spec: unknown; field: string }[] = [
  { name: 'no layers', spec: { model: {} }, field: 'spec.model.layers' },
  { name: 'empty layers', spec: { model: { layers: [] } }, field: 'spec.model.layers' },
  { name: 'zero-width layer', spec: { model: { layers: [100, 0] } }, field: 'spec.model.layers[1]' },
  { name: 'seventeen layers', spec: { model: { layers: Array.from({ length: 17 }, () => 8) } }, field: 'spec.model.layers' },
  { name: 'zero epochs', spec: edit((s) => (s.training = { epochs: 0 })), field: 'spec.training.epochs' },
  { name: 'epochs as a string', spec: edit((s) => (s.training = { epochs: 'ten' })), field: 'spec.training.epochs' },
  { name: 'unknown schedule', spec: edit((s) => (s.parallelism = { schedule: 'ring' })), field: 'spec.parallelism.schedule' },
  { name: 'more workers than layers', spec: edit((s) => (s.parallelism = { workers: 3 })), field: 'spec.parallelism.workers' },
  { name: 'rotating with one worker', spec: edit((s) => (s.parallelism = { schedule: 'rotating' })), field: 'spec.parallelism.workers' },
  {
    name: 'localSoftmax predicting by goodness',
    spec: edit((s) => Object.assign(s.model!, { objective: 'localSoftmax', classifier: { name: 'goodness' } })),
    field: 'spec.model.classifier.name',
  },
  { name: 'idx without a path', spec: edit((s) => (s.dataset = { name: 'idx' })), field: 'spec.dataset.path' },
  { name: 'mnist said to be 3072 wide', spec: edit((s) => (s.dataset = { inputSize: 3072 })), field: 'spec.dataset.inputSize' },
  {
    name: 'an input narrower than the label',
    spec: edit((s) => (s.dataset = { name: 'idx', path: '/d', inputSize: 10 })),
    field: 'spec.dataset.inputSize',
  },
  {
    name: 'DASO on 3 replicas in nodes of 2',
    spec: edit((s) => (s.parallelism = { replicasPerGroup: 3, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } })),
    field: 'spec.parallelism.sync.daso.replicasPerNode',
  },
  {
    name: 'DASO on a single node',
    spec: edit((s) => (s.parallelism = { replicasPerGroup: 2, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } })),
    field: 'spec.parallelism.replicasPerGroup',
  },
  {
    name: 'DASO waiting longer than it skips',
    spec: edit((s) => (s.parallelism = { sync: { daso: { globalSkip: 2, batchesToWait: 3 } } })),
    field: 'spec.parallelism.sync.daso.batchesToWait',
  },
  { name: 'same port twice', spec: edit((s) => (s.worker = { port: 9090 })), field: 'spec.worker.metricsPort' },
  {
    name: 'negative learning rate',
    spec: edit((s) => (s.training = { optimizer: { learningRate: -1 } })),
    field: 'spec.training.optimizer.learningRate',
  },
  { name: 'unknown restart policy', spec: edit((s) => (s.runPolicy = { restartPolicy: 'Always' })), field: 'spec.runPolicy.restartPolicy' },
  { name: 'negative backoffLimit', spec: edit((s) => (s.runPolicy = { backoffLimit: -1 })), field: 'spec.runPolicy.backoffLimit' },
];

void describe('CRD', () => {
  void it('kubectl explain shows the field descriptions', async () => {
    // The CRD's OpenAPI document is published a moment after the CRD is established.
    const out = await eventually(() => cluster.kubectl(['explain', 'forwardforwardjob.spec.parallelism']));
    assert.match(out, /parallelism is how training is split over workers/);
    assert.match(out, /workers\s+<integer>/);
    assert.match(out, /workers is the number of workers/);
    const short = await cluster.kubectl(['explain', 'ffjob.spec.runPolicy.backoffLimit']);
    assert.match(short, /backoffLimit is the number of worker restarts/);
  });

  for (const c of INVALID) {
    void it(`rejects ${c.name}, naming ${c.field}, with the CLI's message`, async () => {
      const got = await rejection(c.spec);
      const cli = validateSpec(c.spec);
      assert.ok(got.causes.length > 0, 'rejected');
      assert.ok(
        got.causes.some((m) => m.startsWith(`${c.field}:`)),
        `a cause names ${c.field}: ${got.causes.join(' | ')}`,
      );
      // kubectl prints `ForwardForwardJob.forwardforward.dev "bad" is invalid: [e1, e2]`; each
      // e is field.Error's text, which is what validateSpec returns.
      assert.equal(got.causes.length, cli.length, `${got.message}\nvs CLI:\n${cli.join('\n')}`);
      for (const line of cli) assert.ok(got.message.includes(line), `API server: ${got.message}\nmissing CLI line: ${line}`);
    });
  }

  // Names the API server alone lets through (a dotted subdomain, a leading digit, too long
  // for <name>-g<G>-r<R>) and names it refuses itself (a path, over 253 bytes).
  const NAMES: { name: string; metadata: string; parallelism?: Record<string, number> }[] = [
    { name: 'a path out of the run folder', metadata: '../escape' },
    { name: 'a dotted subdomain', metadata: 'a.b' },
    { name: 'a leading digit', metadata: '1st' },
    { name: 'upper case', metadata: 'Mnist' },
    { name: '58 characters, one too many for -g0-r0', metadata: 'a'.repeat(58) },
    { name: '57 characters with 4 workers of 64 replicas', metadata: 'a'.repeat(57), parallelism: { workers: 4, replicasPerGroup: 64 } },
    { name: 'over 253 bytes', metadata: 'a'.repeat(254) },
    { name: 'empty', metadata: '' },
  ];
  for (const c of NAMES) {
    void it(`rejects a metadata.name that is ${c.name}, with the CLI's messages`, async () => {
      const body = {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: c.metadata, namespace: ns },
        spec: { model: { layers: [100, 100, 100, 100] }, parallelism: c.parallelism ?? {} },
      };
      const got = await rejectionOf(body);
      const cli = validateJob({ ...body, metadata: { name: c.metadata } });
      assert.ok(got.causes.length > 0, 'rejected');
      assert.ok(
        got.causes.every((m) => m.startsWith('metadata.name:') || m.startsWith('<nil>:')),
        got.causes.join(' | '),
      );
      assert.equal(got.causes.length, cli.length, `${got.message}\nvs CLI:\n${cli.join('\n')}`);
      for (const line of cli) assert.ok(got.message.includes(line), `API server: ${got.message}\nmissing CLI line: ${line}`);
    });
  }

  void it('accepts the longest name that fits, as the CLI does', async () => {
    const body = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'a'.repeat(57), namespace: ns }, spec: base() };
    assert.deepEqual(await rejectionOf(body), { message: '', causes: [] });
    assert.deepEqual(validateJob({ ...body, metadata: { name: 'a'.repeat(57) } }), []);
  });

  void it('rejects an unknown field under strict validation, as the CLI does', async () => {
    const spec = edit((s) => (s.training = { epoch: 3 }));
    const body = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'bad', namespace: ns }, spec };
    const err = await cluster.kube.request('POST', jobsPath(ns), { body, query: { fieldValidation: 'Strict', dryRun: 'All' } }).then(
      () => undefined,
      (e: unknown) => e as KubeError,
    );
    assert.ok(err, 'rejected');
    assert.ok(
      validateSpec(spec).every((m) => err.message.includes(m)),
      `${err.message} vs ${validateSpec(spec).join(' | ')}`,
    );
  });
});
