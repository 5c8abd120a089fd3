import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFfjob } from '../../../cli/testing.js';

const valid = `apiVersion: forwardforward.dev/v1alpha1
kind: ForwardForwardJob
metadata: {name: quick}
spec:
  model: {layers: [64, 64]}
  training: {epochs: 2, chapters: 2}
  parallelism: {workers: 2}
`;

// A user error is one message, never a stack trace (whose frames start with "    at ").
function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, stderr);
}

void describe('ffjob (user errors and validation)', () => {
  let dir = '';
  const file = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('validate prints OK for a valid job', async () => {
    const r = await runFfjob(['validate', await file('ok.yaml', valid)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ok\.yaml: OK \(ForwardForwardJob quick\)/);
  });

  void it('validate names the invalid field and exits 1', async () => {
    const r = await runFfjob(['validate', await file('bad.yaml', valid.replace('epochs: 2', 'epochs: 0'))]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml: invalid ForwardForwardJob/);
    assert.match(r.stderr, /spec\.training\.epochs: Invalid value: 0/);
    assertNoStack(r.stderr);
  });

  void it('invalid YAML is reported with the file and the line', async () => {
    const path = await file('broken.yaml', 'apiVersion: forwardforward.dev/v1alpha1\nkind: ForwardForwardJob\nspec: model: x\n');
    const r = await runFfjob(['validate', path]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(path), r.stderr);
    assert.match(r.stderr, /line 3, column \d+/);
    assertNoStack(r.stderr);
  });

  void it('a missing job file is one clear line', async () => {
    const r = await runFfjob(['train', '--local', join(dir, 'nope.yaml')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `ffjob: job file not found: ${join(dir, 'nope.yaml')}\n`);
  });

  void it('train without --local explains kubectl apply', async () => {
    const r = await runFfjob(['train', 'job.yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /kubectl apply -f job\.yaml/);
  });

  void it('the local runner refuses what the workers cannot run yet, naming the field', async () => {
    const path = await file('replicas.yaml', valid.replace('workers: 2', 'schedule: rotating, workers: 2, replicasPerGroup: 2'));
    const r = await runFfjob(['train', '--local', path, '--dir', join(dir, 'run')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spec\.parallelism\.replicasPerGroup 2 is not supported with schedule rotating yet/);
  });

  void it('validate and train refuse a job whose workers cannot fit in memory, before starting anything', async () => {
    const path = await file('huge.yaml', valid.replace('[64, 64]', '[65536, 65536]').replace('workers: 2', 'workers: 1'));
    const results = await Promise.all([runFfjob(['validate', path]), runFfjob(['train', '--local', path, '--dir', join(dir, 'huge-run')])]);
    for (const r of results) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /spec\.model\.layers: worker 0 needs at least 49\.3 GiB .*the default cap of 32\.0 GiB/);
    }
    assert.equal(results[1]!.stderr.includes('started'), false);
  });

  void it("validate refuses a host-network template as the chart's admission policy does, unless --allow-host-access", async () => {
    const path = await file('host.yaml', `${valid}  worker: {template: {spec: {hostNetwork: true}}}\n`);
    const refused = await runFfjob(['validate', path]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /host\.yaml: spec\.worker\.template hostNetwork gives worker pods access to the node/);
    assert.equal((await runFfjob(['validate', '--allow-host-access', path])).code, 0);
  });

  void it('an empty --dir is refused before anything is written or deleted', async () => {
    const r = await runFfjob(['train', '--local', await file('ok-dir.yaml', valid), '--dir', '']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'ffjob: train: --dir must name a directory; leave it out to use runs/<job name>\n');
  });

  void it('a job name that climbs out of runs/ is refused by validate and train alike', async () => {
    const path = await file('escape.yaml', valid.replace('name: quick', 'name: ../escape'));
    const results = await Promise.all([runFfjob(['validate', path]), runFfjob(['train', '--local', path])]);
    for (const r of results) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /metadata\.name: Invalid value: "\.\.\/escape": a lowercase RFC 1123 subdomain/);
      assert.match(r.stderr, /metadata\.name: Invalid value: name must be a DNS-1035 label/);
    }
  });

  void it('bad flags and unknown commands are one line each', async () => {
    const results = await Promise.all([
      runFfjob(['train', '--local', 'job.yaml', '--restarts', 'many']),
      runFfjob(['launch']),
      runFfjob(['eval', '--model', join(dir, 'no-model')]),
    ]);
    assert.deepEqual(
      results.map((r) => r.code),
      [1, 1, 1],
    );
    assert.equal(results[0]!.stderr, 'ffjob: train: --restarts must be a non-negative integer, got "many"\n');
    assert.equal(results[1]!.stderr, 'ffjob: unknown command "launch" (see ffjob --help)\n');
    assert.equal(results[2]!.stderr, `ffjob: no FFJob model in ${join(dir, 'no-model')}: model.json not found\n`);
  });

  void it('--help lists every subcommand', async () => {
    const r = await runFfjob(['--help']);
    assert.equal(r.code, 0);
    for (const command of ['train --local', 'validate', 'eval', 'predict', 'worker'])
      assert.ok(r.stdout.includes(`ffjob ${command}`), command);
  });
});
