// The FFJob operator: leader election, informers for jobs and the pods they own, a work
// queue and reconcile workers, plus /metrics, /healthz and /readyz.
//
// RBAC it needs (charts/ffjob's ClusterRole or Roles hold exactly these; a test compares them):
//   forwardforward.dev  forwardforwardjobs             get list watch delete   (delete: ttlSecondsAfterFinished)
//   forwardforward.dev  forwardforwardjobs/status      get patch update
//   forwardforward.dev  forwardforwardjobs/finalizers  update                  (blockOwnerDeletion on owner references)
//   ""                  pods                           get list watch create delete
//   ""                  services                       list watch create patch (server-side apply: patch, and create for a missing object)
//   ""                  configmaps                     create patch
//   ""                  secrets                        get create patch        (get: a live job keeps its token)
//   ""                  events                         create patch
//   networking.k8s.io   networkpolicies                create patch            (--network-policy)
//   coordination.k8s.io leases                         get create update       (the operator's namespace only)
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { V1NetworkPolicyPeer, V1Pod, V1Service } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type ForwardForwardJob } from '../api/v1alpha1/index.js';
import { createKube, loadConnection, type Connection, type Kube } from './kube/client.js';
import { createLogger, type Logger } from '../observe/log.js';
import { packageVersion } from '../observe/version.js';
import { Informer, keyOf } from './controller/informer.js';
import { JOB_NAME_LABEL } from './controller/labels.js';
import { LeaderElector, type LeaderElectionOptions } from './controller/leader-election.js';
import { WorkQueue } from './controller/queue.js';
import { Reconciler } from './controller/reconcile.js';
import type { BackoffOptions } from './controller/failure-policy.js';
import { OperatorMetrics } from './metrics.js';

export interface OperatorOptions {
  /** kubeconfig is a file path or a loaded Connection; unset: in-cluster, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string | Connection;
  /** leaseNamespace holds the leader Lease (default: POD_NAMESPACE, else default). */
  leaseNamespace?: string;
  leaseName?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** workers is the number of jobs reconciled at once. */
  workers?: number;
  /** metricsListen is host:port for /metrics, /healthz, /readyz; unset: no HTTP server. */
  metricsListen?: string;
  backoff?: BackoffOptions;
  log?: Logger;
  /** defaultMetrics adds process metrics; tests running several operators turn it off. */
  defaultMetrics?: boolean;
  /** watchNamespace limits the operator to jobs in one namespace (namespaced RBAC); unset: all namespaces. */
  watchNamespace?: string;
  /** networkPolicy gives every job a NetworkPolicy; metricsPeers (operator, Prometheus) may reach the metrics port. */
  networkPolicy?: { metricsPeers: V1NetworkPolicyPeer[] };
  /** allowHostAccess lets worker templates use host namespaces, hostPath, privilege or other service accounts. */
  allowHostAccess?: boolean;
}

export interface Operator {
  isLeader(): boolean;
  metrics: OperatorMetrics;
  /** port of the HTTP server, when metricsListen was given. */
  port?: number;
  /** stop shuts down; `release: false` leaves the lease to expire, as a crash would. */
  stop(opts?: { release?: boolean }): Promise<void>;
}

// List/watch paths, all namespaces or one.
function paths(ns: string | undefined): { jobs: string; pods: string; services: string } {
  const scope = ns ? `/namespaces/${ns}` : '';
  return { jobs: `/apis/${GROUP}/${VERSION}${scope}/${PLURAL}`, pods: `/api/v1${scope}/pods`, services: `/api/v1${scope}/services` };
}

// The part that runs only while leading: informers, queue and workers.
class Controller {
  private readonly queue = new WorkQueue();
  private readonly jobs: Informer<ForwardForwardJob>;
  private readonly pods: Informer<V1Pod>;
  private readonly services: Informer<V1Service>;
  private readonly reconciler: Reconciler;
  private workers: Promise<void>[] = [];
  private readonly gauge: NodeJS.Timeout;

  constructor(
    kube: Kube,
    private readonly opts: Required<Pick<OperatorOptions, 'workers'>> & OperatorOptions,
    private readonly log: Logger,
    private readonly metrics: OperatorMetrics,
  ) {
    const path = paths(opts.watchNamespace);
    this.jobs = new Informer<ForwardForwardJob>(kube, { path: path.jobs, log });
    this.pods = new Informer<V1Pod>(kube, { path: path.pods, labelSelector: JOB_NAME_LABEL, log });
    this.jobs.onChange((job) => this.queue.add(keyOf(job)));
    this.services = new Informer<V1Service>(kube, { path: path.services, labelSelector: JOB_NAME_LABEL, log });
    const owner = (o: V1Pod | V1Service): void => this.queue.add(`${o.metadata?.namespace}/${o.metadata?.labels?.[JOB_NAME_LABEL]}`);
    this.pods.onChange(owner);
    this.services.onChange(owner);
    const { pods, jobs } = this;
    const { backoff, networkPolicy, allowHostAccess } = opts;
    this.reconciler = new Reconciler({
      kube,
      jobs,
      pods,
      log,
      backoff,
      networkPolicy,
      allowHostAccess,
      onPodRestart: () => metrics.podRestarts.inc(),
    });
    this.gauge = setInterval(() => this.observe(), 1000);
    this.gauge.unref();
  }

  async start(): Promise<void> {
    this.jobs.start();
    this.pods.start();
    this.services.start();
    await Promise.all([this.jobs.waitForSync(), this.pods.waitForSync(), this.services.waitForSync()]);
    this.workers = Array.from({ length: this.opts.workers }, () => this.work());
  }

  synced(): boolean {
    return this.jobs.hasSynced() && this.pods.hasSynced() && this.services.hasSynced();
  }

  async stop(): Promise<void> {
    clearInterval(this.gauge);
    this.queue.shutDown();
    await Promise.all([this.jobs.stop(), this.pods.stop(), this.services.stop(), ...this.workers]);
  }

  private observe(): void {
    this.metrics.queueDepth.set(this.queue.len());
    const counts = new Map<string, number>();
    for (const job of this.jobs.store.values()) {
      const last = job.status?.conditions?.filter((c) => c.status === 'True').at(-1)?.type ?? 'Pending';
      counts.set(last, (counts.get(last) ?? 0) + 1);
    }
    this.metrics.jobs.reset();
    for (const [phase, n] of counts) this.metrics.jobs.set({ phase }, n);
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      const end = this.metrics.reconcileDuration.startTimer();
      try {
        const { requeueAfterMs } = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (requeueAfterMs !== undefined) this.queue.addAfter(key, requeueAfterMs);
        this.metrics.reconciles.inc({ result: requeueAfterMs === undefined ? 'success' : 'requeue' });
      } catch (err) {
        this.metrics.reconciles.inc({ result: 'error' });
        this.log.warn('reconcile failed, will retry', { job: key, err: err as Error });
        this.queue.addRateLimited(key);
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }
}

function serve(listen: string, metrics: OperatorMetrics, ready: () => boolean): Promise<Server> {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
  const server = createServer((req, res) => {
    const route = req.url?.split('?')[0];
    if (route === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (route === '/healthz') res.writeHead(200).end('ok\n');
    else if (route === '/readyz') res.writeHead(ready() ? 200 : 503).end(ready() ? 'ok\n' : 'not ready\n');
    else res.writeHead(404).end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || '0.0.0.0', () => resolve(server));
  });
}

// client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry.
function leaseTiming(
  o: OperatorOptions,
): Pick<LeaderElectionOptions, 'namespace' | 'name' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'> {
  return {
    namespace: o.leaseNamespace ?? process.env.POD_NAMESPACE ?? 'default',
    name: o.leaseName ?? 'ffjob-operator',
    leaseDurationMs: o.leaseDurationMs ?? 15_000,
    renewDeadlineMs: o.renewDeadlineMs ?? 10_000,
    retryPeriodMs: o.retryPeriodMs ?? 2_000,
  };
}

/** startOperator runs the operator until stop(); it acts only while it holds the leader lease. */
export async function startOperator(options: OperatorOptions = {}): Promise<Operator> {
  const kube = createKube(typeof options.kubeconfig === 'object' ? options.kubeconfig : loadConnection(options.kubeconfig));
  const identity = options.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  const log = options.log ?? createLogger({ component: 'ffjob-operator', identity });
  const metrics = new OperatorMetrics(options.defaultMetrics ?? true);
  let controller: Controller | undefined;
  let transition = Promise.resolve();
  const elector = new LeaderElector(kube, {
    ...leaseTiming(options),
    identity,
    log,
    onStartedLeading: () => {
      metrics.leader.set(1);
      const c = new Controller(kube, { ...options, workers: options.workers ?? 4 }, log, metrics);
      controller = c;
      transition = transition.then(() => c.start()).catch((err: unknown) => log.error('controller failed to start', { err: err as Error }));
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      const c = controller;
      controller = undefined;
      transition = transition.then(() => c?.stop());
    },
  });
  const server = options.metricsListen
    ? await serve(options.metricsListen, metrics, () => !elector.isLeader() || (controller?.synced() ?? false))
    : undefined;
  elector.start();
  return {
    isLeader: () => elector.isLeader(),
    metrics,
    ...(server ? { port: (server.address() as AddressInfo).port } : {}),
    async stop({ release = true } = {}) {
      await elector.stop(release);
      await transition;
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server?.closeAllConnections();
    },
  };
}

function parsePeer(json: string): V1NetworkPolicyPeer {
  try {
    return JSON.parse(json) as V1NetworkPolicyPeer;
  } catch (err) {
    throw new Error(`--metrics-peer must be a NetworkPolicyPeer as JSON: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      'metrics-listen': { type: 'string', default: '0.0.0.0:8080' },
      workers: { type: 'string', default: '4' },
      'lease-namespace': { type: 'string' },
      'watch-namespace': { type: 'string' },
      'network-policy': { type: 'boolean', default: false },
      // A NetworkPolicyPeer as JSON ({"namespaceSelector": …, "podSelector": …}); repeatable.
      'metrics-peer': { type: 'string', multiple: true, default: [] },
      // Off: worker templates may not ask for the node's or another identity's rights.
      'allow-host-access': { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
    },
  });
  if (values.version) {
    process.stdout.write(`ffjob-operator ${packageVersion(import.meta.url)}\n`);
    return;
  }
  const op = await startOperator({
    kubeconfig: values.kubeconfig,
    metricsListen: values['metrics-listen'],
    workers: Number(values.workers),
    leaseNamespace: values['lease-namespace'],
    watchNamespace: values['watch-namespace'],
    allowHostAccess: values['allow-host-access'],
    ...(values['network-policy'] ? { networkPolicy: { metricsPeers: values['metrics-peer'].map(parsePeer) } } : {}),
  });
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    op.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    createLogger({ component: 'ffjob-operator' }).error('operator failed', { err: err as Error });
    process.exit(1);
  });
}
