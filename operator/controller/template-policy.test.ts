import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { hostAccessRefusal } from './template-policy.js';

function withTemplate(template: object, checkpointVolume?: object): ForwardForwardJob {
  const job = makeJob('j', 'ns').obj();
  job.spec.worker.template = template as typeof job.spec.worker.template;
  if (checkpointVolume) job.spec.checkpoint.volume = checkpointVolume as typeof job.spec.checkpoint.volume;
  return job;
}

const cases: { name: string; job: ForwardForwardJob; allow: boolean; wantReason?: string; wantMessage?: RegExp }[] = [
  { name: 'an ordinary template is fine', job: withTemplate({ spec: { nodeSelector: { a: 'b' } } }), allow: false },
  {
    name: 'hostNetwork fails the job before any pod exists, naming the field and the way out',
    job: withTemplate({ spec: { hostNetwork: true } }),
    allow: false,
    wantReason: 'HostAccessRefused',
    wantMessage: /^spec\.worker\.template hostNetwork gives worker pods access to the node .* --allow-host-access/,
  },
  {
    name: 'every broken rule is listed: a privileged container and a hostPath checkpoint',
    job: withTemplate({ containers: [{ name: 'worker', securityContext: { privileged: true } }] }, { hostPath: { path: '/' } }),
    allow: false,
    wantReason: 'HostAccessRefused',
    wantMessage: /securityContext\.privileged .*; spec\.checkpoint\.volume\.hostPath/,
  },
  { name: 'the admin allowed host access: nothing is refused', job: withTemplate({ spec: { hostPID: true } }), allow: true },
];

void describe('hostAccessRefusal', () => {
  for (const c of cases) {
    void it(c.name, () => {
      const got = hostAccessRefusal(c.job, c.allow);
      assert.equal(got?.reason, c.wantReason);
      if (c.wantMessage) assert.match(got?.message ?? '', c.wantMessage);
    });
  }
});
