import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSION, KIND, validateJob } from './index.js';

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end " +
  "with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_RULE =
  "metadata.name: Invalid value: name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter " +
  "and ending with a letter or digit): it names the job's Service and its worker pods";
const LENGTH_RULE =
  'metadata.name: Invalid value: name is too long for the worker pod names: <name>-g<workers-1>-r<replicasPerGroup-1> ' +
  "must be at most 63 characters because a pod's name is its hostname";

function job(name: string, parallelism: Record<string, unknown> = {}): unknown {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec: { model: { layers: [5, 5, 5, 5] }, parallelism } };
}

const cases: { name: string; job: unknown; wantErrors: string[] }[] = [
  { name: 'a short DNS label is fine', job: job('mnist'), wantErrors: [] },
  {
    name: 'a path climbing out of the run folder is neither a subdomain nor a label',
    job: job('../etc'),
    wantErrors: [`metadata.name: Invalid value: "../etc": ${SUBDOMAIN}`, LABEL_RULE],
  },
  { name: 'a dotted subdomain passes the API server but cannot name a Service', job: job('a.b'), wantErrors: [LABEL_RULE] },
  { name: 'a leading digit passes RFC 1123 but not RFC 1035', job: job('1st'), wantErrors: [LABEL_RULE] },
  {
    name: 'upper case is refused by both',
    job: job('Mnist'),
    wantErrors: [`metadata.name: Invalid value: "Mnist": ${SUBDOMAIN}`, LABEL_RULE],
  },
  { name: 'a 57-character name leaves room for -g0-r0', job: job('a'.repeat(57)), wantErrors: [] },
  { name: 'a 58-character name does not', job: job('a'.repeat(58)), wantErrors: [LENGTH_RULE] },
  {
    name: 'the suffix grows with workers and replicas: 56 characters fit -g3-r63 but 57 do not',
    job: job('a'.repeat(57), { workers: 4, replicasPerGroup: 64 }),
    wantErrors: [LENGTH_RULE],
  },
  { name: '56 characters with -g3-r63', job: job('a'.repeat(56), { workers: 4, replicasPerGroup: 64 }), wantErrors: [] },
  {
    name: 'over 253 bytes is refused by the API server, and its schema maxLength skips the rules',
    job: job('a'.repeat(254)),
    wantErrors: [
      `metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`,
      'metadata.name: Too long: may not be more than 253 bytes',
    ],
  },
];

void describe('validateJob on metadata.name', () => {
  for (const c of cases) {
    void it(c.name, () => {
      const got = validateJob(c.job).filter((m) => !m.startsWith('<nil>'));
      assert.deepEqual(got, c.wantErrors);
    });
  }
});
