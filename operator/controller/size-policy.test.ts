import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { memoryRefusal } from './size-policy.js';

void describe('memoryRefusal', () => {
  void it('lets a job that fits through', () => {
    assert.equal(memoryRefusal(makeJob('j', 'ns').obj()), undefined);
  });

  void it('fails a job whose worker cannot fit its memory limit, before any pod, naming the fields', () => {
    const job = makeJob('j', 'ns').obj();
    job.spec.model.layers = [4000, 4000];
    job.spec.worker.resources = { limits: { memory: '256Mi' } };
    const got = memoryRefusal(job);
    assert.equal(got?.reason, 'MemoryEstimateExceeded');
    assert.match(
      got?.message ?? '',
      /^spec\.model\.layers: worker 0 needs at least .* more than spec\.worker\.resources\.limits\.memory \(256Mi\)/,
    );
  });
});
