import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeError, type Kube } from '../kube/client.js';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { supportingObjects, TokenKeeper } from './supporting.js';

// A Kube that answers only the token Secret's GET, one answer per call: a token, undefined (404) or an error.
function secretServer(answers: (string | undefined | KubeError)[]): Kube {
  return {
    request: <T>(method: string, path: string): Promise<T> => {
      assert.equal(`${method} ${path}`, 'GET /api/v1/namespaces/ns/secrets/j-token');
      const answer = answers.shift();
      if (answer instanceof KubeError) return Promise.reject(answer);
      if (answer === undefined) return Promise.reject(new KubeError(404, 'NotFound', 'secrets "j-token" not found'));
      return Promise.resolve({ data: { token: Buffer.from(answer).toString('base64') } } as T);
    },
    watch: () => Promise.reject(new Error('not used')),
  };
}

void describe('supportingObjects', () => {
  void it('lists the ConfigMap, Secret and Service at their API paths, and the NetworkPolicy only when asked for', () => {
    const job = makeJob('j', 'ns').obj();
    const cases = [
      { name: 'no network policy', peers: undefined, want: ['ConfigMap j-config', 'Secret j-token', 'Service j'] },
      { name: 'with network policy', peers: [], want: ['ConfigMap j-config', 'Secret j-token', 'Service j', 'NetworkPolicy j'] },
    ];
    for (const c of cases)
      assert.deepEqual(
        supportingObjects(job, 'tok', c.peers).map((o) => `${o.kind} ${o.name}`),
        c.want,
        c.name,
      );
    assert.deepEqual(
      supportingObjects(job, 'tok', []).map((o) => o.path),
      [
        '/api/v1/namespaces/ns/configmaps/j-config',
        '/api/v1/namespaces/ns/secrets/j-token',
        '/api/v1/namespaces/ns/services/j',
        '/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies/j',
      ],
    );
  });
});

void describe('TokenKeeper', () => {
  void it('keeps a live job token: the Secret first, then its memory, a new one only for a job it never saw', async () => {
    const job = makeJob('j', 'ns').obj();
    const keeper = new TokenKeeper(secretServer(['from-secret', undefined, 'edited-by-hand']));
    assert.equal(await keeper.token(job), 'from-secret', 'the Secret holds the token');
    assert.equal(await keeper.token(job), 'from-secret', 'the Secret was deleted: the remembered token comes back');
    assert.equal(await keeper.token(job), 'edited-by-hand', 'what the Secret holds wins, as the workers read it');
    const fresh = new TokenKeeper(secretServer([undefined]));
    assert.match(await fresh.token(job), /^[A-Za-z0-9_-]{43}$/, 'a new job gets 32 random bytes');
  });

  void it('lets a refused read through rather than minting a token the workers do not hold', async () => {
    const keeper = new TokenKeeper(secretServer([new KubeError(403, 'Forbidden', 'secrets is forbidden')]));
    await assert.rejects(keeper.token(makeJob('j', 'ns').obj()), { message: 'secrets is forbidden' });
  });
});
