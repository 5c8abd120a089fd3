// A real Kubernetes control plane for tests: etcd, kube-apiserver and
// kube-controller-manager on loopback, from binaries that test/cluster/build.sh
// builds once into a cache outside the repository.
//
//   const cp = await startControlPlane();
//   // ... use cp.kubeconfig (a file path) or cp.server ...
//   await cp.stop();
//
// Every process logs to <dir>/<name>.log; a start failure throws an error that
// carries the last lines of the failing process's log.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ControlPlaneOptions {
  /** Working directory for certificates, data and logs. Default: a fresh tmp dir, removed by stop() (kept after a failed start). */
  dir?: string;
  /** Directory holding etcd, kube-apiserver, kube-controller-manager, kubectl. Default: $FFJOB_K8S_BIN, else build.sh's output. */
  binDir?: string;
  /** kube-controller-manager --controllers list. Default: ['*']. */
  controllers?: string[];
  /** Overall time allowed for start-up, in ms. Default 120 000. */
  startTimeoutMs?: number;
  /** Keep `dir` after stop() even when it was created here (also: FFJOB_KEEP_CLUSTER_DIR=1). */
  keepDir?: boolean;
  /**
   * A non-loopback address of this host, for pods on a real node (test/node): the API server
   * then listens on every address and advertises this one as the endpoint of the `kubernetes`
   * Service, which kube-proxy forwards the pods' in-cluster traffic to. Default: loopback only,
   * and that Service has no endpoint.
   */
  advertiseAddress?: string;
}

export interface RestartOptions {
  /** Kill kube-apiserver with SIGKILL instead of a graceful SIGTERM. */
  kill?: boolean;
}

export interface ControlPlane {
  /** Path of an admin kubeconfig file (client certificate of a system:masters user). */
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  stop(): Promise<void>;
  /** Stops kube-apiserver only and starts it again on the same port; resolves when /readyz answers ok. */
  restartApiServer(opts?: RestartOptions): Promise<void>;
  /** Working directory (certs, logs, etcd data). */
  dir: string;
  /** Directory of the binaries; `${binDir}/kubectl` matches the apiserver's version. */
  binDir: string;
  /** PEM of the cluster CA (verifies the apiserver's serving certificate). */
  caCertPem: string;
  /** Bearer token of an admin (system:masters) user, accepted besides the client certificate. */
  adminToken: string;
  /** http://127.0.0.1:<port> of etcd. */
  etcdEndpoint: string;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const STOP_GRACE_MS = 15_000;
const SERVICE_CIDR = '10.0.0.0/24';

/** Resolves the bin dir: FFJOB_K8S_BIN, else runs build.sh (instant when cached; a cold build takes many minutes). */
export async function resolveBinDir(): Promise<string> {
  const fromEnv = process.env.FFJOB_K8S_BIN;
  if (fromEnv) return resolve(fromEnv);
  const child = spawn('bash', [join(HERE, 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => (stdout += c));
  const status = await new Promise<number | string>((res) => {
    child.once('error', (e) => res(e.message));
    child.once('close', (code, signal) => res(code ?? String(signal)));
  });
  if (status !== 0) throw new Error(`test/cluster/build.sh failed: ${status}`);
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1].trim();
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = opts.binDir ?? (await resolveBinDir());
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
    if (!existsSync(join(binDir, b))) throw new Error(`${join(binDir, b)} is missing: run test/cluster/build.sh`);
  }
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'ffjob-cp-'));
  mkdirSync(dir, { recursive: true });
  const keepDir = opts.keepDir ?? process.env.FFJOB_KEEP_CLUSTER_DIR === '1';
  const deadline = Date.now() + (opts.startTimeoutMs ?? 120_000);
  const procs = new Procs(dir);
  try {
    const pki = makePki(join(dir, 'pki'), opts.advertiseAddress);
    const [etcdPort, peerPort, apiPort, kcmPort] = await freePorts(4);
    const etcdEndpoint = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, pki));

    await procs.start('etcd', join(binDir, 'etcd'), etcdArgs(dir, etcdPort, peerPort));
    await waitFor('etcd', procs, deadline, async () => (await httpGet(`${etcdEndpoint}/health`)).includes('"true"'));

    const apiArgs = apiServerArgs({ dir, pki, port: apiPort, etcd: etcdEndpoint, advertise: opts.advertiseAddress });
    await procs.start('kube-apiserver', join(binDir, 'kube-apiserver'), apiArgs);
    await waitFor('kube-apiserver', procs, deadline, async () => (await apiGet(server, pki, '/readyz')).status === 200);

    const kcmArgs = controllerManagerArgs({ dir, pki, kubeconfig, port: kcmPort, controllers: opts.controllers ?? ['*'] });
    await procs.start('kube-controller-manager', join(binDir, 'kube-controller-manager'), kcmArgs);
    await waitControllerManager({ procs, deadline, port: kcmPort, server, pki, args: kcmArgs });

    let stopped = false;
    return {
      kubeconfig,
      server,
      dir,
      binDir,
      caCertPem: pki.caCert,
      adminToken: pki.token,
      etcdEndpoint,
      async stop() {
        if (stopped) return;
        stopped = true;
        await procs.stopAll();
        if (ownDir && !keepDir) rmSync(dir, { recursive: true, force: true });
      },
      async restartApiServer(ro: RestartOptions = {}) {
        if (stopped) throw new Error('control plane is stopped');
        await procs.stop('kube-apiserver', ro.kill ? 0 : STOP_GRACE_MS);
        await procs.start('kube-apiserver', join(binDir, 'kube-apiserver'), apiArgs);
        const restartDeadline = Date.now() + (opts.startTimeoutMs ?? 120_000);
        await waitFor('kube-apiserver', procs, restartDeadline, async () => (await apiGet(server, pki, '/readyz')).status === 200);
      },
    };
  } catch (err) {
    // The work dir (full logs) is kept after a failed start.
    await procs.stopAll();
    throw err;
  }
}

// ---------------------------------------------------------------- processes

interface Running {
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
  exitInfo?: string;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if the test process exits without stop(): never leave servers behind.
  process.on('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

class Procs {
  private readonly running = new Map<string, Running>();
  private readonly order: string[] = [];
  constructor(private readonly dir: string) {}

  async start(name: string, bin: string, args: string[]): Promise<void> {
    installExitHook();
    const log = join(this.dir, `${name}.log`);
    const fd = openSync(log, 'a');
    writeFileSync(fd, `\n==== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
    const env = { ...process.env };
    delete env.KUBECONFIG;
    const child = spawn(bin, args, { cwd: this.dir, stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    liveChildren.add(child);
    const entry: Running = { child, log, exited: Promise.resolve() };
    entry.exited = new Promise<void>((res) => {
      child.once('exit', (code, signal) => {
        entry.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        liveChildren.delete(child);
        res();
      });
      child.once('error', (e) => {
        entry.exitInfo = `spawn error: ${e.message}`;
        liveChildren.delete(child);
        res();
      });
    });
    this.running.set(name, entry);
    if (!this.order.includes(name)) this.order.push(name);
  }

  /** Throws if `name` has exited (with the tail of its log). */
  checkAlive(name: string): void {
    const r = this.running.get(name);
    if (r?.exitInfo !== undefined) throw new Error(`${name} exited (${r.exitInfo})${this.tail(name)}`);
  }

  tail(name: string, lines = 40): string {
    const r = this.running.get(name);
    if (!r) return '';
    try {
      const text = readFileSync(r.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      return `\n--- last lines of ${r.log} ---\n${text}`;
    } catch {
      return '';
    }
  }

  async stop(name: string, graceMs = STOP_GRACE_MS): Promise<void> {
    const r = this.running.get(name);
    if (!r || r.exitInfo !== undefined) return;
    r.child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), graceMs).unref());
    if ((await Promise.race([r.exited, timer])) === 'timeout') {
      r.child.kill('SIGKILL');
      await r.exited;
    }
  }

  /** Stops in reverse start order: controller-manager, apiserver, etcd. */
  async stopAll(): Promise<void> {
    for (const name of [...this.order].reverse()) await this.stop(name);
  }
}

async function waitFor(name: string, procs: Procs, deadline: number, probe: () => Promise<boolean>): Promise<void> {
  let lastErr = '';
  for (;;) {
    procs.checkAlive(name);
    try {
      if (await probe()) return;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
    procs.checkAlive(name);
    if (Date.now() > deadline) {
      throw new Error(`${name} did not become ready in time${lastErr ? ` (last probe error: ${lastErr})` : ''}${procs.tail(name)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------- flags

function etcdArgs(dir: string, port: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=ffjob',
    `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=ffjob=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync=true', // test data only: much faster on slow disks
    '--log-level=warn',
  ];
}

interface ApiServerConfig {
  dir: string;
  pki: Pki;
  port: number;
  etcd: string;
  advertise: string | undefined;
}

function apiServerArgs({ dir, pki, port, etcd, advertise }: ApiServerConfig): string[] {
  // The Endpoints of the `kubernetes` Service may not hold a loopback IP: without an address
  // to advertise, that reconciler is off.
  const address = advertise
    ? ['--bind-address=0.0.0.0', `--advertise-address=${advertise}`]
    : ['--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none'];
  return [
    ...address,
    `--secure-port=${port}`,
    `--etcd-servers=${etcd}`,
    `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.files.serverCert}`,
    `--tls-private-key-file=${pki.files.serverKey}`,
    `--client-ca-file=${pki.files.caCert}`,
    `--token-auth-file=${pki.files.tokens}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.files.saPub}`,
    `--service-account-signing-key-file=${pki.files.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // Close open watches on SIGTERM instead of waiting for clients (graceful restarts in seconds).
    '--shutdown-watch-termination-grace-period=2s',
    // A node's name need not resolve here (test/node's does not): logs and exec go to its IP.
    '--kubelet-preferred-address-types=InternalIP',
    '--profiling=false',
    '--v=1',
  ];
}

interface KcmConfig {
  dir: string;
  pki: Pki;
  kubeconfig: string;
  port: number;
  controllers: string[];
}

function controllerManagerArgs({ dir, pki, kubeconfig, port, controllers }: KcmConfig): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    // No front-proxy (request-header) CA is configured on the apiserver.
    '--authentication-skip-lookup=true',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'kcm-certs')}`,
    '--leader-elect=false',
    `--controllers=${controllers.join(',')}`,
    `--service-account-private-key-file=${pki.files.saKey}`,
    `--root-ca-file=${pki.files.caCert}`,
    `--cluster-signing-cert-file=${pki.files.caCert}`,
    `--cluster-signing-key-file=${pki.files.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--profiling=false',
    '--v=1',
  ];
}

interface KcmWait {
  procs: Procs;
  deadline: number;
  port: number;
  server: string;
  pki: Pki;
  args: string[];
}

async function waitControllerManager({ procs, deadline, port, server, pki, args }: KcmWait): Promise<void> {
  await waitFor(
    'kube-controller-manager',
    procs,
    deadline,
    async () => (await httpsGetInsecure(`https://127.0.0.1:${port}/healthz`)) === 200,
  );
  if (!serviceAccountControllerOn(args)) return;
  // The serviceaccount controller creates default/default; pods are admitted once it exists.
  await waitFor(
    'kube-controller-manager',
    procs,
    deadline,
    async () => (await apiGet(server, pki, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
  );
}

function serviceAccountControllerOn(kcmArgs: string[]): boolean {
  const flag = kcmArgs.find((a) => a.startsWith('--controllers='));
  const list = (flag ?? '--controllers=*').slice('--controllers='.length).split(',');
  if (list.includes('-serviceaccount-controller')) return false;
  return list.includes('*') || list.includes('serviceaccount-controller');
}

// ---------------------------------------------------------------- PKI

interface Pki {
  caCert: string;
  clientCert: string;
  clientKey: string;
  token: string;
  files: Record<'caCert' | 'caKey' | 'serverCert' | 'serverKey' | 'saKey' | 'saPub' | 'tokens', string>;
}

function openssl(dir: string, args: string[]): void {
  const res = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (res.error) throw new Error(`openssl is needed (apt-get install openssl): ${res.error.message}`);
  if (res.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${res.stderr}`);
}

/** CA, apiserver serving cert, admin client cert (EC P-256, via openssl), SA signing key (RSA, node:crypto), token file. */
function makePki(dir: string, advertise: string | undefined): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ec = (name: string): void => openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name]);
  ec('ca.key');
  openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=ffjob-test-ca', '-days', '3650', '-out', 'ca.crt']);
  const sign = (name: string, subj: string, ext: string): void => {
    ec(`${name}.key`);
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ]);
  };
  sign(
    'apiserver',
    '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      `subjectAltName=IP:127.0.0.1,IP:10.0.0.1,${advertise ? `IP:${advertise},` : ''}DNS:localhost,` +
      'DNS:kubernetes,DNS:kubernetes.default,' +
      'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n',
  );
  sign(
    'admin',
    '/O=system:masters/CN=ffjob-admin',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
  const token = `ffjob-admin-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  writeFileSync(join(dir, 'tokens.csv'), `${token},ffjob-token-admin,ffjob-token-admin,"system:masters"\n`, { mode: 0o600 });
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    caCert: read('ca.crt'),
    clientCert: read('admin.crt'),
    clientKey: read('admin.key'),
    token,
    files: {
      caCert: join(dir, 'ca.crt'),
      caKey: join(dir, 'ca.key'),
      serverCert: join(dir, 'apiserver.crt'),
      serverKey: join(dir, 'apiserver.key'),
      saKey: join(dir, 'sa.key'),
      saPub: join(dir, 'sa.pub'),
      tokens: join(dir, 'tokens.csv'),
    },
  };
}

function kubeconfigYaml(server: string, pki: Pki): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: ffjob-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    'users:',
    '- name: ffjob-admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.clientCert)}`,
    `    client-key-data: ${b64(pki.clientKey)}`,
    'contexts:',
    '- name: ffjob-test',
    '  context:',
    '    cluster: ffjob-test',
    '    user: ffjob-admin',
    '    namespace: default',
    'current-context: ffjob-test',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- net

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.once('error', rej);
          s.listen(0, '127.0.0.1', () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('unexpected server address');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  return ports;
}

function httpGet(url: string): Promise<string> {
  return new Promise((res, rej) => {
    const req = httpRequest(url, { timeout: 2000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (body += c));
      r.on('end', () => res(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

function apiGet(server: string, pki: Pki, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = httpsRequest(
      new URL(path, server),
      { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey, timeout: 5000, agent: false },
      (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** Status code of a GET to a self-signed https endpoint (kube-controller-manager's /healthz). */
function httpsGetInsecure(url: string): Promise<number> {
  return new Promise((res, rej) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, timeout: 2000, agent: false }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}
