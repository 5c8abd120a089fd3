// Integration test of the control-plane harness itself: needs the binaries from
// test/cluster/build.sh (built on first use; minutes when the cache is cold).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startControlPlane, type ControlPlane } from './control-plane.js';

const run = promisify(execFile);
let cp: ControlPlane;

async function kubectl(args: string[], input?: string): Promise<string> {
  const bin = join(cp.binDir, 'kubectl');
  const full = ['--kubeconfig', cp.kubeconfig, ...args];
  if (input === undefined) return (await run(bin, full, { timeout: 30_000 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(bin, full, { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

/** Polls until `kubectl get ...` reports NotFound; fails after timeoutMs. */
async function waitGone(args: string[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      await kubectl(['get', ...args, '-o', 'name']);
    } catch (e) {
      if (String(e).includes('NotFound')) return Date.now() - t0;
      throw e;
    }
    if (Date.now() - t0 > timeoutMs) assert.fail(`${args.join(' ')} still exists after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Creates ConfigMaps <prefix>-owner and <prefix>-dependent, the latter owned by the former. */
async function ownerAndDependent(ns: string, prefix: string): Promise<void> {
  await kubectl(['-n', ns, 'create', 'configmap', `${prefix}-owner`, '--from-literal=a=1']);
  const uid = await kubectl(['-n', ns, 'get', 'configmap', `${prefix}-owner`, '-o', 'jsonpath={.metadata.uid}']);
  assert.ok(uid.length > 0);
  const dependent = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${prefix}-dependent`,
      namespace: ns,
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: `${prefix}-owner`, uid }],
    },
    data: { b: '2' },
  };
  await kubectl(['apply', '-f', '-'], JSON.stringify(dependent));
  await kubectl(['-n', ns, 'get', 'configmap', `${prefix}-dependent`]);
}

before(
  async () => {
    const t0 = Date.now();
    cp = await startControlPlane();
    console.log(`# control plane started in ${Date.now() - t0} ms at ${cp.server}`);
  },
  { timeout: 40 * 60_000 },
); // a cold cache builds the binaries first

after(async () => {
  await cp?.stop();
});

void test('kubectl reaches the apiserver', { timeout: 60_000 }, async () => {
  const out = await kubectl(['get', 'ns', 'default', '-o', 'jsonpath={.status.phase}']);
  assert.equal(out, 'Active');
  const version = JSON.parse(await kubectl(['version', '-o', 'json'])) as {
    clientVersion: { gitVersion: string };
    serverVersion: { gitVersion: string };
  };
  assert.equal(version.clientVersion.gitVersion, version.serverVersion.gitVersion);
});

void test('RBAC is enforced', { timeout: 60_000 }, async () => {
  // `kubectl auth can-i` prints "no" and exits 1 when the answer is no.
  const out = await kubectl(['auth', 'can-i', 'list', 'pods', '--as=system:serviceaccount:default:default']).catch((e: unknown) =>
    String((e as { stdout?: unknown }).stdout),
  );
  assert.equal(out.trim(), 'no');
  assert.equal((await kubectl(['auth', 'can-i', 'list', 'pods'])).trim(), 'yes');
});

void test('garbage collector removes dependents and namespaces are deleted', { timeout: 150_000 }, async () => {
  const ns = 'gc-test';
  await kubectl(['create', 'namespace', ns]);
  await ownerAndDependent(ns, 'gc');

  await kubectl(['-n', ns, 'delete', 'configmap', 'gc-owner']);
  const gcMs = await waitGone(['-n', ns, 'configmap', 'gc-dependent'], 60_000);
  console.log(`# garbage collector removed the dependent after ${gcMs} ms`);

  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  const nsMs = await waitGone(['namespace', ns], 60_000);
  console.log(`# namespace deleted after ${nsMs} ms`);
});

void test('restartApiServer brings the API back on the same address', { timeout: 150_000 }, async () => {
  const server = cp.server;
  const t0 = Date.now();
  await cp.restartApiServer();
  console.log(`# apiserver restarted in ${Date.now() - t0} ms`);
  assert.equal(cp.server, server);
  const out = await kubectl(['get', 'ns', 'default', '-o', 'jsonpath={.metadata.name}']);
  assert.equal(out, 'default');
  // The controller-manager's watches recover: garbage collection works again.
  await ownerAndDependent('default', 'after-restart');
  await kubectl(['delete', 'configmap', 'after-restart-owner']);
  const gcMs = await waitGone(['configmap', 'after-restart-dependent'], 60_000);
  console.log(`# after the restart the garbage collector removed a dependent after ${gcMs} ms`);
});
