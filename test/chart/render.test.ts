// charts/ffjob rendered with helm (no cluster): lint, the values schema, RBAC against the
// operator's own list, the CRD and dashboards it ships, the operator Deployment, the
// optional monitors, and deploy/install.yaml.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_WORKER_IMAGE } from '../../api/v1alpha1/index.js';
import { INSTALL_FILE, renderInstall } from '../../scripts/render-install.js';
import { DASHBOARD_FILES, GRAFANA_DIR } from '../observability/dashboards.js';
import { CHART, find, grantsOf, helm, operatorGrants, render, renderText, ROOT, type K8sObject } from './chart.js';

const NS = 'ffjob-system';

interface Container {
  image: string;
  args: string[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: { name: string; containerPort: number }[];
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  serviceAccountName: string;
  containers: Container[];
}

function deployment(objects: K8sObject[]): { replicas: number; pod: PodSpec; container: Container } {
  const spec = find(objects, 'Deployment').spec as { replicas: number; template: { spec: PodSpec } };
  return { replicas: spec.replicas, pod: spec.template.spec, container: spec.template.spec.containers[0]! };
}

void describe('charts/ffjob rendered', () => {
  void it('helm lint --strict passes: default values, and namespaced RBAC with both monitors on', () => {
    helm(['lint', '--strict', CHART]);
    helm([
      'lint',
      '--strict',
      CHART,
      '--set',
      'rbac.scope=Namespace,metrics.serviceMonitor.enabled=true,metrics.podMonitor.enabled=true,replicaCount=2',
    ]);
  });

  void it('values.schema.json refuses values the chart cannot use', () => {
    const cases = [
      { set: 'rbac.scope=Everywhere', want: /rbac\.scope|scope/ },
      { set: 'replicaCount=-1', want: /replicaCount/ },
      { set: 'metrics.serviceMonitor.interval=soon', want: /interval/ },
      { set: 'networkPolicy.enabeld=true', want: /enabeld/ },
    ];
    for (const c of cases) {
      const r = helm(['template', 'x', CHART, '--set', c.set], { allowFail: true });
      assert.notEqual(r.status, 0, c.set);
      assert.match(r.stderr, c.want, c.set);
    }
  });

  void it('RBAC holds exactly the verbs listed at the top of operator/main.ts, as a ClusterRole or as Roles', () => {
    const want = operatorGrants();
    const cluster = render(NS);
    assert.deepEqual(grantsOf([find(cluster, 'ClusterRole'), find(cluster, 'Role')]), want);
    assert.equal(find(cluster, 'Role').metadata.namespace, NS, 'leases only in the release namespace');

    const namespaced = render(NS, ['rbac.scope=Namespace', 'watchNamespace=ml']);
    assert.equal(namespaced.filter((o) => o.kind.startsWith('Cluster')).length, 0, 'no cluster-wide RBAC');
    const roles = namespaced.filter((o) => o.kind === 'Role');
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['ffjob-system', 'ml']);
    assert.deepEqual(grantsOf(roles), want);
    assert.ok(deployment(namespaced).container.args.includes('--watch-namespace=ml'));
    const binding = find(namespaced, 'RoleBinding', 'ffjob') as K8sObject & { subjects: { name: string; namespace: string }[] };
    assert.deepEqual(
      binding.subjects.map((s) => [s.name, s.namespace]),
      [['ffjob', NS]],
    );
  });

  void it('ships deploy/crd as its CRD and deploy/grafana as dashboards labelled for the Grafana sidecar', () => {
    assert.equal(
      helm(['show', 'crds', CHART])
        .stdout.replace(/^---\n/, '')
        .trim(),
      readFileSync(join(ROOT, 'deploy/crd/forwardforward.dev_forwardforwardjobs.yaml'), 'utf8').trim(),
    );
    const maps = render(NS).filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    const shipped = Object.assign({}, ...maps.map((m) => m.data as Record<string, string>)) as Record<string, string>;
    assert.deepEqual(Object.keys(shipped).sort(), [...DASHBOARD_FILES].sort());
    for (const f of DASHBOARD_FILES) assert.equal(shipped[f], readFileSync(join(GRAFANA_DIR, f), 'utf8'), f);
    assert.equal(render(NS, ['dashboards.enabled=false']).filter((o) => o.metadata.labels?.grafana_dashboard).length, 0);
  });

  void it('the operator runs non-root on a read-only root, without capabilities, with probes and leader election', () => {
    const { replicas, pod, container } = deployment(render(NS, ['replicaCount=2']));
    assert.equal(replicas, 2);
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    assert.deepEqual(
      [container.livenessProbe.httpGet, container.readinessProbe.httpGet],
      [
        { path: '/healthz', port: 'metrics' },
        { path: '/readyz', port: 'metrics' },
      ],
    );
    assert.deepEqual(
      container.ports.map((p) => [p.name, p.containerPort]),
      [['metrics', 8080]],
    );
    assert.ok(container.args.includes(`--lease-namespace=${NS}`));
    assert.ok(container.args.includes('--network-policy'));
    const peers = container.args
      .filter((a) => a.startsWith('--metrics-peer='))
      .map((a) => JSON.parse(a.slice('--metrics-peer='.length)) as unknown);
    assert.deepEqual(peers, [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS } },
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/component': 'operator',
            'app.kubernetes.io/instance': 'ffjob',
            'app.kubernetes.io/name': 'ffjob',
          },
        },
      },
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    ]);
    const off = deployment(render(NS, ['networkPolicy.enabled=false'])).container.args;
    assert.ok(!off.some((a) => a.startsWith('--network-policy') || a.startsWith('--metrics-peer')), off.join(' '));
  });

  void it('installs the worker host-access policy and no --allow-host-access by default; allowHostAccess swaps them', () => {
    const byDefault = render(NS);
    assert.equal(find(byDefault, 'ValidatingAdmissionPolicy').metadata.name, 'ffjob-worker-host-access');
    assert.equal(
      (find(byDefault, 'ValidatingAdmissionPolicyBinding') as K8sObject & { spec: { policyName: string } }).spec.policyName,
      'ffjob-worker-host-access',
    );
    assert.ok(!deployment(byDefault).container.args.includes('--allow-host-access'));
    const allowed = render(NS, ['workerPolicy.allowHostAccess=true']);
    assert.equal(allowed.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy')).length, 0);
    assert.ok(deployment(allowed).container.args.includes('--allow-host-access'));
  });

  void it('the images are the chart appVersion, the tag of the worker image the CRD defaults to', () => {
    const { appVersion } = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    assert.equal(deployment(render(NS)).container.image, `ghcr.io/ffjob/operator:${appVersion}`);
    assert.equal(DEFAULT_WORKER_IMAGE, `ghcr.io/ffjob/worker:${appVersion}`);
  });

  void it('ServiceMonitor and PodMonitor are off by default and select the operator Service and every worker pod when on', () => {
    assert.equal(render(NS).filter((o) => o.apiVersion.startsWith('monitoring.coreos.com')).length, 0);
    const on = render(NS, [
      'metrics.serviceMonitor.enabled=true',
      'metrics.podMonitor.enabled=true',
      'metrics.serviceMonitor.labels.release=kps',
    ]);
    const sm = find(on, 'ServiceMonitor') as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    const svc = find(on, 'Service') as K8sObject & { spec: { selector: Record<string, string>; ports: { name: string }[] } };
    assert.equal(sm.metadata.labels?.release, 'kps');
    assert.deepEqual(sm.spec.selector.matchLabels, svc.spec.selector);
    assert.deepEqual(
      sm.spec.endpoints.map((e) => e.port),
      svc.spec.ports.map((p) => p.name),
    );
    const pm = find(on, 'PodMonitor') as K8sObject & { spec: Record<string, unknown> };
    assert.deepEqual(pm.spec.namespaceSelector, { any: true });
    assert.deepEqual(pm.spec.selector, { matchExpressions: [{ key: 'forwardforward.dev/job-name', operator: 'Exists' }] });
    assert.deepEqual(
      (pm.spec.podMetricsEndpoints as { port: string }[]).map((e) => e.port),
      ['metrics'],
    );
  });

  void it(`${INSTALL_FILE} is the chart rendered with its default values (regenerate: npm run manifests)`, () => {
    const [got, want] = [readFileSync(join(ROOT, INSTALL_FILE), 'utf8').split('\n'), renderInstall().split('\n')];
    const line = want.findIndex((l, i) => got[i] !== l);
    // The first differing line says what changed; the files are 2,000 lines long.
    assert.ok(
      line < 0 && got.length === want.length,
      `${INSTALL_FILE} is stale from line ${line + 1} (${JSON.stringify(got[line])}, wanted ${JSON.stringify(want[line])}): run 'npm run manifests'`,
    );
    assert.match(renderText(NS, [], ['--include-crds']), /kind: CustomResourceDefinition/);
  });
});
