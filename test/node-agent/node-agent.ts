// A test node agent: the kubelet (and the scheduler, and cluster DNS) of the e2e tests.
// It registers a Node and renews its Lease, binds the pending pods it is told to care
// about to that Node, runs each bound pod's container as a local process (pod-process.ts),
// gives each pod its own loopback address and an /etc/hosts that names every pod as
// <hostname>.<subdomain>.<ns>.svc, and reports phases, container states, exit codes and
// termination messages back through the API. Deleting a pod stops its process (SIGTERM,
// then SIGKILL after the grace period), removes its own directory and then the pod.
//
// Not a kubelet: one container per pod, no liveness probes, no resource limits, no restarts
// in place (the operator's pods use restartPolicy Never). Test infrastructure. By default
// there are no images either; with `image` set, every pod's container runs from that one
// image under runc, with the pod's security settings and fsGroup applied (oci-spec.ts).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { isStatus, PATCH_TYPES, type Kube } from '../../operator/kube/client.js';
import { Informer, keyOf } from '../../operator/controller/informer.js';
import type { Logger } from '../../observe/log.js';
import type { ImageRun } from './oci-spec.js';
import { PodProcess, type Exit } from './pod-process.js';
import { podMounts } from './volumes.js';

export interface NodeAgentOptions {
  kube: Kube;
  /** root holds each pod's directory and the persistent claim directories. */
  root: string;
  /** workDir is the checkout the pods' commands run in. */
  workDir: string;
  /** labelSelector picks the pods this agent binds and runs. */
  labelSelector: string;
  log: Logger;
  nodeName?: string;
  /** image, when set, is the image every pod's container runs from (image mode). */
  image?: ImageRun;
}

/** RunningPod is what a test may inspect or kill. */
export interface RunningPod {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  process: PodProcess;
  podDir: string;
}

const LEASE_SECONDS = 40;
const PROBE_MS = 1000;
const BASE_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';

function podPath(pod: V1Pod): string {
  return `/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}`;
}

function probePort(container: V1Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort ?? (Number(port) || undefined);
}

function containerStatus(container: V1Container, state: object, ready: boolean): object {
  return { name: container.name, image: container.image ?? '', imageID: '', ready, restartCount: 0, started: true, state };
}

export class NodeAgent {
  readonly nodeName: string;
  private readonly pods: Informer<V1Pod>;
  /** Pods with a process, started or finished, by UID. */
  private readonly runs = new Map<string, RunningPod>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly ready = new Map<string, boolean>();
  private readonly reporting = new Map<string, Promise<void>>();
  private nextIp = 1;
  /** subnet: the second octet of this agent's pod IPs, by process so that agents run side by side. */
  private readonly subnet = 100 + (process.pid % 150);
  private timers: NodeJS.Timeout[] = [];
  /** stopped ends status retries: after stop() the API server may be gone for good. */
  private stopped = false;
  private readonly kube: Kube;

  constructor(private readonly opts: NodeAgentOptions) {
    this.kube = opts.kube;
    this.nodeName = opts.nodeName ?? 'ffjob-e2e-node';
    this.pods = new Informer<V1Pod>(opts.kube, {
      path: '/api/v1/pods',
      labelSelector: opts.labelSelector,
      log: opts.log,
      watchTimeoutSeconds: 60,
    });
    this.pods.onChange((pod) => this.enqueue(keyOf(pod)));
    // A test that dies must not leave workers behind.
    process.once('exit', () => {
      for (const run of this.runs.values()) run.process.kill('SIGKILL');
    });
  }

  async start(): Promise<void> {
    if (process.getuid?.() !== 0)
      throw new Error('the test node agent runs pods in their own mount namespaces (unshare --mount): run the tests as root');
    await this.register();
    this.pods.start();
    await this.pods.waitForSync();
    this.timers.push(setInterval(() => void this.renewLease().catch(() => undefined), 10_000));
    this.timers.push(setInterval(() => this.probeAll(), PROBE_MS));
  }

  /** running lists the pods whose process has not exited. */
  running(): RunningPod[] {
    return [...this.runs.values()].filter((r) => r.process.child.exitCode === null && r.process.child.signalCode === null);
  }

  /** pod finds the latest process of a pod by namespace and name. */
  pod(namespace: string, name: string): RunningPod | undefined {
    return this.runsOf(namespace, name).at(-1);
  }

  /** runsOf lists every process started for a pod name (one per attempt), oldest first. */
  runsOf(namespace: string, name: string): RunningPod[] {
    return [...this.runs.values()].filter((r) => r.namespace === namespace && r.name === name);
  }

  /** stop kills every process (as if the node died) and stops watching; pods are left as they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.pods.stop();
    await Promise.all([...this.runs.values()].map((r) => r.process.stop(0)));
  }

  private enqueue(key: string): void {
    const next = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.sync(key))
      .catch((err: unknown) => {
        this.opts.log.warn('pod sync failed, retrying', { pod: key, err: err as Error });
        setTimeout(() => this.enqueue(key), 1000).unref();
      });
    this.chains.set(key, next);
  }

  private async register(): Promise<void> {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: this.nodeName, labels: { 'kubernetes.io/hostname': this.nodeName } } };
    try {
      await this.kube.request('POST', '/api/v1/nodes', { body: node });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
    const now = new Date().toISOString();
    const status = {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'ffjob e2e node agent',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: this.nodeName },
      ],
      capacity: { cpu: '2', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '8Gi', pods: '110' },
    };
    await this.kube.request('PATCH', `/api/v1/nodes/${this.nodeName}/status`, { body: { status }, contentType: PATCH_TYPES.merge });
    await this.renewLease();
  }

  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.nodeName}`;
    const spec = {
      holderIdentity: this.nodeName,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: new Date().toISOString().replace('Z', '000Z'),
    };
    try {
      await this.kube.request('PATCH', path, { body: { spec }, contentType: PATCH_TYPES.merge });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
      await this.kube.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.nodeName }, spec },
      });
    }
  }

  // Level-triggered: looks at the pod as it is now, whatever event brought it here.
  private async sync(key: string): Promise<void> {
    const pod = this.pods.store.get(key);
    await this.dropReplaced(key, pod?.metadata?.uid);
    if (!pod) return;
    if (pod.metadata?.deletionTimestamp) await this.delete(pod);
    else if (!pod.spec?.nodeName) await this.bind(pod);
    else if (this.shouldStart(pod)) await this.run(pod);
  }

  /** dropReplaced stops the processes of earlier pods of the same name (deleted, maybe recreated). */
  private async dropReplaced(key: string, uid: string | undefined): Promise<void> {
    for (const run of this.runs.values()) {
      if (`${run.namespace}/${run.name}` === key && run.uid !== uid) await this.remove(run, 0);
    }
  }

  private shouldStart(pod: V1Pod): boolean {
    const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    return pod.spec?.nodeName === this.nodeName && !this.runs.has(pod.metadata?.uid ?? '') && !finished;
  }

  private async bind(pod: V1Pod): Promise<void> {
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.metadata?.name },
      target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName },
    };
    try {
      await this.kube.request('POST', `${podPath(pod)}/binding`, { body: binding });
    } catch (err) {
      // 409: bound already (our own earlier try); 404: deleted meanwhile.
      if (!isStatus(err, 404, 409)) throw err;
    }
  }

  private async run(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const container = pod.spec?.containers[0];
    if (!container) throw new Error(`pod ${keyOf(pod)} has no container`);
    const n = this.nextIp++;
    const ip = `127.${this.subnet}.${n >> 8}.${n & 255}`;
    const podDir = join(this.opts.root, 'pods', uid);
    // A kubelet gives writable volumes to the pod's fsGroup; the process mode runs as root and needs none.
    const fsGroup = this.opts.image ? pod.spec?.securityContext?.fsGroup : undefined;
    const mounts = await podMounts(this.kube, pod, { podDir, claimsDir: join(this.opts.root, 'claims'), fsGroup });
    const hosts = join(podDir, 'hosts');
    await this.writeHosts(hosts, pod, ip);
    const proc = new PodProcess({
      pod,
      ip,
      podDir,
      mounts: [...mounts, { source: hosts, target: '/etc/hosts', readOnly: true }],
      workDir: this.opts.workDir,
      image: this.opts.image,
    });
    const run: RunningPod = { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid, ip, podDir, process: proc };
    this.runs.set(uid, run);
    await this.refreshHosts();
    // Not awaited: while the API server is away this retries, and deletions must not wait on it.
    void this.patchStatus(pod, {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: proc.startedAt,
      conditions: this.conditions(false),
      containerStatuses: [containerStatus(container, { running: { startedAt: proc.startedAt } }, false)],
    });
    void proc.exited.then((exit) => this.reportExit(pod, container, exit));
  }

  private conditions(ready: boolean): object[] {
    const now = new Date().toISOString();
    const status = ready ? 'True' : 'False';
    return [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status, lastTransitionTime: now },
      { type: 'Ready', status, lastTransitionTime: now },
    ];
  }

  private async reportExit(pod: V1Pod, container: V1Container, exit: Exit): Promise<void> {
    const run = this.runs.get(pod.metadata?.uid ?? '');
    if (!run || !this.pods.store.has(keyOf(pod))) return;
    const { exitCode, message, startedAt, finishedAt } = exit;
    const reason = exitCode === 0 ? 'Completed' : 'Error';
    const terminated = {
      exitCode,
      reason,
      startedAt,
      finishedAt,
      ...(message ? { message } : {}),
      ...(exit.signal ? { signal: exitCode - 128 } : {}),
    };
    await this.patchStatus(pod, {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      conditions: this.conditions(false),
      containerStatuses: [containerStatus(container, { terminated }, false)],
    });
    await this.refreshHosts();
  }

  /**
   * patchStatus writes a pod's status, in order and retrying every second while the API
   * server is away, until it lands or the pod's process is forgotten.
   */
  private patchStatus(pod: V1Pod, status: object): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const write = async (): Promise<void> => {
      while (this.runs.has(uid) && !this.stopped) {
        try {
          await this.kube.request('PATCH', `${podPath(pod)}/status`, { body: { status }, contentType: PATCH_TYPES.merge });
          return;
        } catch (err) {
          if (isStatus(err, 404)) return;
          this.opts.log.warn('cannot write pod status, retrying', { pod: keyOf(pod), err: err as Error });
          await sleep(1000);
        }
      }
    };
    const next = (this.reporting.get(uid) ?? Promise.resolve()).then(write);
    this.reporting.set(uid, next);
    return next;
  }

  private async delete(pod: V1Pod): Promise<void> {
    const run = this.runs.get(pod.metadata?.uid ?? '');
    if (run) await this.remove(run, pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
    try {
      await this.kube.request('DELETE', podPath(pod), { body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } } });
    } catch (err) {
      // 404: gone; 409: a newer pod of the same name, which is not ours to delete.
      if (!isStatus(err, 404, 409)) throw err;
    }
  }

  /** remove stops a pod's process and deletes its own directory (emptyDirs, config, log). */
  private async remove(run: RunningPod, graceSeconds: number): Promise<void> {
    await run.process.stop(graceSeconds);
    this.runs.delete(run.uid);
    this.ready.delete(run.uid);
    this.reporting.delete(run.uid);
    await rm(run.podDir, { recursive: true, force: true });
    await this.refreshHosts();
  }

  // Cluster DNS for headless services, as /etc/hosts lines: every running pod with a
  // hostname and subdomain, after the pod's own hostAliases (which win, as in a kubelet's
  // /etc/hosts placed before DNS).
  private hostsLines(): string {
    const lines: string[] = [];
    for (const run of this.running()) {
      const pod = this.pods.store.get(`${run.namespace}/${run.name}`);
      const { hostname, subdomain } = pod?.spec ?? {};
      if (pod?.metadata?.uid !== run.uid || !hostname || !subdomain) continue;
      const fqdn = `${hostname}.${subdomain}.${run.namespace}.svc`;
      lines.push(`${run.ip}\t${fqdn} ${fqdn}.cluster.local`);
    }
    return lines.join('\n') + '\n';
  }

  private async writeHosts(path: string, pod: V1Pod, ip: string): Promise<void> {
    const aliases = (pod.spec?.hostAliases ?? []).map((a) => `${a.ip}\t${(a.hostnames ?? []).join(' ')}`).join('\n');
    const own = `${ip}\t${pod.spec?.hostname ?? pod.metadata?.name}`;
    // Written in place: the pod sees this file through a bind mount of its inode.
    await writeFile(path, `${BASE_HOSTS}${own}\n${aliases}\n${this.hostsLines()}`);
  }

  private async refreshHosts(): Promise<void> {
    for (const run of this.running()) {
      const pod = this.pods.store.get(`${run.namespace}/${run.name}`);
      if (pod) await this.writeHosts(join(run.podDir, 'hosts'), pod, run.ip).catch(() => undefined);
    }
  }

  private probeAll(): void {
    for (const run of this.running()) void this.probe(run).catch(() => undefined);
  }

  // Readiness from the container's httpGet probe; the status is written when it flips.
  private async probe(run: RunningPod): Promise<void> {
    const pod = this.pods.store.get(`${run.namespace}/${run.name}`);
    const container = pod?.spec?.containers[0];
    if (!pod || !container || pod.metadata?.uid !== run.uid) return;
    const ready = await probeReady(container, run.ip);
    if (this.ready.get(run.uid) === ready || !this.running().includes(run)) return;
    this.ready.set(run.uid, ready);
    await this.patchStatus(pod, {
      conditions: this.conditions(ready),
      containerStatuses: [containerStatus(container, { running: { startedAt: run.process.startedAt } }, ready)],
    });
  }
}

/** probeReady runs the container's readiness probe (httpGet only; none means ready). */
async function probeReady(container: V1Container, ip: string): Promise<boolean> {
  const get = container.readinessProbe?.httpGet;
  const port = get ? probePort(container, get.port) : undefined;
  if (!get || port === undefined) return true;
  return fetch(`http://${ip}:${port}${get.path ?? '/'}`, { signal: AbortSignal.timeout(900) }).then(
    (r) => r.ok,
    () => false,
  );
}

/** startNodeAgent registers the node and starts running pods; stop() kills every process. */
export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const agent = new NodeAgent(opts);
  await agent.start();
  return agent;
}
