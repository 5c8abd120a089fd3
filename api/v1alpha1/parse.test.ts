import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSION, KIND, parseJobYaml, SpecError } from './index.js';

const quick = `apiVersion: forwardforward.dev/v1alpha1
kind: ForwardForwardJob
metadata: {name: mnist-quick}
spec:
  model:
    layers: [1000, 1000]
  training: {epochs: 2}
`;

function problemsOf(text: string): string[] {
  try {
    parseJobYaml(text, 'job.yaml');
  } catch (err) {
    assert.ok(err instanceof SpecError);
    assert.match(err.message, /^job\.yaml: /);
    for (const p of err.problems) assert.ok(err.message.includes(p));
    return err.problems;
  }
  assert.fail('expected a SpecError');
}

const invalid: { name: string; text: string; wantErrors: string[] }[] = [
  {
    name: 'a YAML syntax error names the line and column',
    text: 'apiVersion: forwardforward.dev/v1alpha1\nkind: ForwardForwardJob\nspec: model: x\n',
    wantErrors: ['line 3, column 7: Nested mappings are not allowed in compact mappings'],
  },
  {
    name: 'a duplicate key is a syntax error too',
    text: `${quick}kind: ForwardForwardJob\n`,
    wantErrors: ['line 8, column 1: Map keys must be unique ("kind" appears twice)'],
  },
  {
    name: 'NaN and infinities are refused, each by its field, as kubectl cannot send them',
    text: `${quick.replace('training: {epochs: 2}', 'training: {epochs: 2, optimizer: {learningRate: .nan}}')}  model: {layers: [8], goodness: {threshold: .inf, sharpness: -.Inf}}\n`.replace(
      /\n {2}model:\n {4}layers: \[1000, 1000\]/,
      '',
    ),
    wantErrors: [
      'spec.training.optimizer.learningRate: Invalid value: NaN: must be a finite number (kubectl: json: unsupported value)',
      'spec.model.goodness.threshold: Invalid value: +Inf: must be a finite number (kubectl: json: unsupported value)',
      'spec.model.goodness.sharpness: Invalid value: -Inf: must be a finite number (kubectl: json: unsupported value)',
    ],
  },
  {
    name: 'a non-finite layer width names its index',
    text: quick.replace('[1000, 1000]', '[1000, .inf]'),
    wantErrors: ['spec.model.layers[1]: Invalid value: +Inf: must be a finite number (kubectl: json: unsupported value)'],
  },
  {
    name: 'an alias bomb (billion laughs) is refused, not expanded',
    text: `a: &a [x, x, x, x, x, x, x, x, x]\n${['b', 'c', 'd', 'e', 'f', 'g'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`).join('\n')}\n`,
    wantErrors: ['Excessive alias count indicates a resource exhaustion attack'],
  },
  {
    name: 'two jobs in one file are refused: ffjob runs one',
    text: `${quick}---\n${quick}`,
    wantErrors: ['holds 2 YAML documents; a job file holds one ForwardForwardJob'],
  },
  {
    name: 'a Job from another API group is refused by apiVersion and kind',
    text: quick.replace('forwardforward.dev/v1alpha1', 'batch/v1').replace('ForwardForwardJob', 'Job'),
    wantErrors: [
      'apiVersion: Unsupported value: "batch/v1": supported values: "forwardforward.dev/v1alpha1"',
      'kind: Unsupported value: "Job": supported values: "ForwardForwardJob"',
    ],
  },
  {
    name: 'a nameless job needs a name, as the API server says',
    text: quick.replace('metadata: {name: mnist-quick}', 'metadata: {}'),
    // Required is a blocking error: the API server skips the CEL rules and says so
    // (test/integration/crd.test.ts checks this case against it).
    wantErrors: [
      'metadata.name: Required value: name or generateName is required',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'schema problems are all listed at once',
    text: quick.replace('epochs: 2', 'epochs: 0, batchSize: 0'),
    wantErrors: [
      'spec.training.epochs: Invalid value: 0: spec.training.epochs in body should be greater than or equal to 1',
      'spec.training.batchSize: Invalid value: 0: spec.training.batchSize in body should be greater than or equal to 1',
      'spec.training.chapters: Invalid value: chapters must be at most 100 per epoch: shorter chapters spend more time exchanging weights than training',
    ],
  },
  {
    name: 'an empty file is not a job',
    text: '',
    wantErrors: ['a ForwardForwardJob must be a mapping, not null'],
  },
];

void describe('parseJobYaml', () => {
  void it('returns the job with every default filled in', () => {
    const job = parseJobYaml(quick, 'job.yaml');
    assert.equal(job.apiVersion, API_VERSION);
    assert.equal(job.kind, KIND);
    assert.equal(job.metadata.name, 'mnist-quick');
    assert.equal(job.spec.training.epochs, 2);
    assert.equal(job.spec.training.chapters, 10);
    assert.equal(job.spec.model.negatives.strategy, 'adaptive');
  });

  void it('takes a trailing document separator as kubectl does', () => {
    assert.equal(parseJobYaml(`---\n${quick}---\n`, 'job.yaml').metadata.name, 'mnist-quick');
  });

  void it('reads YAML 1.1 booleans as kubectl does', () => {
    const job = parseJobYaml(`${quick}  runPolicy: {suspend: yes}\n`, 'job.yaml');
    assert.equal(job.spec.runPolicy.suspend, true);
  });

  for (const tc of invalid) {
    void it(tc.name, () => {
      assert.deepEqual(problemsOf(tc.text), tc.wantErrors);
    });
  }
});
