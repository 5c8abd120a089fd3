// charts/ffjob and deploy/install.yaml against a real control plane: server-side dry-run
// of the rendered chart, helm install and uninstall, and `kubectl apply` of the manifest.
// After each install the operator runs as a pod would, with the Deployment's own
// arguments and its ServiceAccount's token, so a verb missing from the RBAC shows up as a
// job whose objects never appear.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import {
  createJob,
  CONTROLLERS,
  eventually,
  getJob,
  kubectlFor,
  lastCondition,
  newNamespace,
  podNames,
  type Cluster,
} from '../integration/harness.js';
import { startOperatorProcess } from '../integration/operator-process.js';
import { createKube, isStatus, loadConnection, type Kube } from '../../operator/kube/client.js';
import { INSTALL_FILE } from '../../scripts/render-install.js';
import { CHART, helm, parseObjects, renderText, ROOT } from './chart.js';

let cp: ControlPlane;
let kube: Kube;
let kubectl: Cluster['kubectl'];
let dir = '';

before(async () => {
  cp = await startControlPlane({ controllers: CONTROLLERS });
  kube = createKube(loadConnection(cp.kubeconfig));
  kubectl = kubectlFor(cp);
  dir = await mkdtemp(join(tmpdir(), 'ffjob-chart-'));
});

after(async () => {
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function helmOn(args: string[]): string {
  return helm([...args, '--kubeconfig', cp.kubeconfig]).stdout;
}

async function exists(path: string): Promise<boolean> {
  try {
    await kube.request('GET', path);
    return true;
  } catch (err) {
    if (isStatus(err, 404)) return false;
    throw err;
  }
}

// A kubeconfig that authenticates as the ServiceAccount, with a token from the TokenRequest API.
async function serviceAccountKubeconfig(ns: string, sa: string): Promise<string> {
  const { status } = await kube.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const file = join(dir, `${ns}-${sa}.kubeconfig`);
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'test', cluster: { server: cp.server, 'certificate-authority-data': Buffer.from(cp.caCertPem).toString('base64') } },
      ],
      users: [{ name: sa, user: { token: status.token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: sa } }],
      'current-context': 'test',
    }),
  );
  return file;
}

/**
 * Runs the installed operator Deployment's container as a process, with its args and its
 * ServiceAccount's token, and checks that a job created in `jobNs` gets every object.
 */
async function operatorWorksAsInstalled(ns: string, deployment: string, jobNs: string): Promise<void> {
  type Deploy = { spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } } };
  const pod = (await kube.request<Deploy>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/${deployment}`)).spec.template.spec;
  const kubeconfig = await serviceAccountKubeconfig(ns, pod.serviceAccountName);
  const operator = await startOperatorProcess([...pod.containers[0]!.args, '--kubeconfig', kubeconfig], { POD_NAMESPACE: ns });
  try {
    await createJob(kube, jobNs, 'rbac', { parallelism: { workers: 2 } });
    await eventually(async () => assert.deepEqual(await podNames(kube, jobNs, 'rbac'), ['rbac-g0-r0', 'rbac-g1-r0']), {
      timeoutMs: 30_000,
    });
    for (const path of [
      `/api/v1/namespaces/${jobNs}/services/rbac`,
      `/api/v1/namespaces/${jobNs}/configmaps/rbac-config`,
      `/api/v1/namespaces/${jobNs}/secrets/rbac-token`,
      `/apis/networking.k8s.io/v1/namespaces/${jobNs}/networkpolicies/rbac`,
    ])
      await eventually(async () => assert.ok(await exists(path), path), { timeoutMs: 30_000 });
    await eventually(async () => assert.equal(lastCondition(await getJob(kube, jobNs, 'rbac')), 'Created'), { timeoutMs: 30_000 });
    const events = await kubectl(['get', 'events', '-n', jobNs, '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /SuccessfulCreate/);
    assert.doesNotMatch(operator.log(), /forbidden/i);
  } catch (err) {
    // What the API server refused is in the operator's log.
    throw new Error(`${(err as Error).message}\noperator log (last lines):\n${operator.log().split('\n').slice(-8).join('\n')}`);
  } finally {
    await operator.stop();
  }
}

// kubectl auth can-i as the ServiceAccount `account` ("namespace:name").
async function canI(account: string, question: string[]): Promise<boolean> {
  const out = await kubectl(['auth', 'can-i', ...question, `--as=system:serviceaccount:${account}`]).catch((err: Error) => err.message);
  return /^yes$/m.test(out);
}

void describe('charts/ffjob on a control plane', () => {
  void it('helm template, applied with server-side dry-run, is accepted: default values and namespaced RBAC', async () => {
    const ns = await newNamespace(kube, 'dry');
    for (const set of [[], ['rbac.scope=Namespace']]) {
      const text = renderText(ns, set, ['--include-crds']);
      const out = await kubectl(['apply', '--server-side', '--dry-run=server', '--field-manager=helm-dry-run', '-f', '-'], text);
      const created = out.split('\n').filter((l) => / (serverside-applied|created) \(server dry run\)$/.test(l));
      assert.equal(created.length, parseObjects(text).length, out);
    }
  });

  void it("helm install: the operator works with the chart's RBAC and arguments in any namespace; helm uninstall removes all but the CRD", async (t) => {
    const notes = helmOn(['install', 'ffjob', CHART, '--namespace', 'ffjob-system', '--create-namespace']);
    // Left installed by a failure, the release would get in the way of the next test.
    t.after(() => void helm(['uninstall', 'ffjob', '--namespace', 'ffjob-system', '--kubeconfig', cp.kubeconfig], { allowFail: true }));
    assert.match(notes, /kubectl -n ffjob-system rollout status deployment\/ffjob/, 'NOTES.txt tells the next command');
    assert.match(helmOn(['list', '--namespace', 'ffjob-system']), /^ffjob\s/m);
    assert.ok(await exists('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/forwardforwardjobs.forwardforward.dev'));
    const cm = await kubectl(['get', 'configmaps', '-n', 'ffjob-system', '-l', 'grafana_dashboard=1', '-o', 'name']);
    assert.deepEqual(cm.trim().split('\n').sort(), ['configmap/ffjob-dashboard-operator', 'configmap/ffjob-dashboard-training']);

    await operatorWorksAsInstalled('ffjob-system', 'ffjob', await newNamespace(kube, 'team'));
    assert.equal(await canI('ffjob-system:ffjob', ['create', 'deployments', '--all-namespaces']), false, 'no rights beyond the list');

    helmOn(['uninstall', 'ffjob', '--namespace', 'ffjob-system']);
    for (const path of [
      '/apis/apps/v1/namespaces/ffjob-system/deployments/ffjob',
      '/api/v1/namespaces/ffjob-system/serviceaccounts/ffjob',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/ffjob',
      '/api/v1/namespaces/ffjob-system/configmaps/ffjob-dashboard-training',
    ])
      await eventually(async () => assert.equal(await exists(path), false, path));
    // Helm never deletes a CRD from crds/: that would delete every job.
    assert.ok(await exists('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/forwardforwardjobs.forwardforward.dev'));
  });

  void it('rbac.scope=Namespace: the operator works in its namespace and has no rights in any other', async (t) => {
    helmOn(['install', 'ffjob-ml', CHART, '--namespace', 'ml', '--create-namespace', '--set', 'rbac.scope=Namespace']);
    t.after(() => void helmOn(['uninstall', 'ffjob-ml', '--namespace', 'ml']));
    await operatorWorksAsInstalled('ml', 'ffjob-ml', 'ml');
    assert.equal(await canI('ml:ffjob-ml', ['create', 'pods', '-n', 'ml']), true);
    assert.equal(await canI('ml:ffjob-ml', ['create', 'pods', '-n', 'default']), false);
    assert.equal(await canI('ml:ffjob-ml', ['list', 'forwardforwardjobs.forwardforward.dev', '--all-namespaces']), false);
  });

  void it(`kubectl apply --server-side -f ${INSTALL_FILE} installs the namespace, CRD, RBAC and operator`, async () => {
    // The CRD is still there from the helm test (helm leaves it), its fields owned by helm.
    const out = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(ROOT, INSTALL_FILE)]);
    assert.match(out, /^namespace\/ffjob-system serverside-applied$/m);
    assert.match(out, /^deployment\.apps\/ffjob serverside-applied$/m);
    await operatorWorksAsInstalled('ffjob-system', 'ffjob', await newNamespace(kube, 'plain'));
  });
});
