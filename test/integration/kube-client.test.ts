// The operator's REST client against a real API server, where a unit test cannot tell
// what the server actually read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { isStatus } from '../../operator/kube/client.js';
import { newNamespace, startCluster, type Cluster } from './harness.js';

let cluster: Cluster;

before(async () => {
  cluster = await startCluster();
});

after(async () => {
  await cluster?.cp.stop();
});

void describe('kube client', () => {
  void it('sends a DELETE body (DeleteOptions) that the server honours, and the connection stays usable', async () => {
    const ns = await newNamespace(cluster.kube, 'client');
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const cm = await cluster.kube.request<V1ConfigMap>('POST', path, { body: { metadata: { name: 'c' } } });
    // A precondition on a wrong UID must make the server refuse: proof that it read the body.
    await assert.rejects(cluster.kube.request('DELETE', `${path}/c`, { body: { preconditions: { uid: 'not-the-uid' } } }), (err: unknown) =>
      isStatus(err, 409),
    );
    for (let i = 0; i < 3; i++) assert.equal((await cluster.kube.request<V1ConfigMap>('GET', `${path}/c`)).metadata?.uid, cm.metadata?.uid);
    await cluster.kube.request('DELETE', `${path}/c`, { body: { preconditions: { uid: cm.metadata?.uid } } });
    await assert.rejects(cluster.kube.request('GET', `${path}/c`), (err: unknown) => isStatus(err, 404));
  });
});
