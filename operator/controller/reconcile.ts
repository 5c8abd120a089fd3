// The reconcile loop, in kubeflow/trainer's order: get the job (gone → return); snapshot
// its status; list what it owns; build the desired objects (pure); apply the supporting
// objects, create the missing pods and delete what must go; compute status from what is
// observed; write status only if it changed; emit events after that write; return a
// requeue delay. It never branches on a watch event type and may run any number of times
// for the same state.
//
// A write the API server refuses (422 from an invalid worker.template, 403 from a quota or
// an admission webhook) does not stop the pass: the rest is still written, each refusal
// becomes a Warning event with the server's message and Created=False in status, and the
// joined errors are thrown last so the queue retries the job with back-off.
import { isDeepStrictEqual } from 'node:util';
import type { V1NetworkPolicyPeer, V1Pod } from '@kubernetes/client-node';
import { GROUP, OBJECT_RULES, PLURAL, unsupportedFeatures, VERSION, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { PATCH_TYPES, type Kube } from '../kube/client.js';
import { ignoreConflict, ignoreNotFound } from '../kube/ignore.js';
import type { Logger } from '../../observe/log.js';
import { podsToClean, type CleanPodPolicy } from './clean-pod-policy.js';
import { isFinished, type Condition } from './conditions.js';
import { evaluateDeadlines } from './deadline.js';
import { desiredPod, slots } from './desired.js';
import { EventRecorder, type JobEvent } from './events.js';
import { DEFAULT_BACKOFF, evaluateFailures, type BackoffOptions, type Failure } from './failure-policy.js';
import type { Informer } from './informer.js';
import { JOB_NAME_LABEL } from './labels.js';
import { isDeleting } from './pods.js';
import { fetchReport, reportingPods, type WorkerReport } from './progress.js';
import { evaluateProgress, type ProgressDecision } from './progress-deadline.js';
import { computeStatus, type JobStatus, type Observation } from './status.js';
import { apply, FIELD_MANAGER, supportingObjects, TokenKeeper } from './supporting.js';
import { skippedCheckpointEvents } from './skipped-checkpoints.js';
import { isSuspended, podsToSuspend } from './suspend.js';
import { memoryRefusal } from './size-policy.js';
import { hostAccessRefusal } from './template-policy.js';
import { evaluateTtl } from './ttl.js';

/** Result says when to look at the job again, if no event comes first. */
export interface Result {
  requeueAfterMs?: number;
}

export interface ReconcilerDeps {
  kube: Kube;
  jobs: Informer<ForwardForwardJob>;
  pods: Informer<V1Pod>;
  log: Logger;
  now?: () => Date;
  backoff?: BackoffOptions;
  /** onPodRestart is told of every group restart (a metric). */
  onPodRestart?: () => void;
  /** networkPolicy, when set, gives each job a NetworkPolicy admitting these peers to the metrics port. */
  networkPolicy?: { metricsPeers: V1NetworkPolicyPeer[] };
  /** allowHostAccess lets worker templates ask for host or identity access (template-policy.ts). */
  allowHostAccess?: boolean;
}

// A write the API server refused; `condition` is set for those that keep the job from being created.
interface Refusal {
  message: string;
  condition?: NonNullable<Observation['refused']>['reason'];
}

// One reconcile's work in progress.
interface Pass {
  job: ForwardForwardJob;
  ns: string;
  pods: V1Pod[];
  events: JobEvent[];
  requeue: number[];
  refused: Refusal[];
}

/** RefusedWrites joins the writes the API server refused in one reconcile, so the queue backs off. */
export class RefusedWrites extends Error {
  constructor(readonly refusals: readonly string[]) {
    super(refusals.join('; '));
    this.name = 'RefusedWrites';
  }
}

/** How often a running job's progress is refreshed from its workers. */
const PROGRESS_REFRESH_MS = 15_000;
/** How often an active job is looked at without an event, so drift in its ConfigMap, Secret or NetworkPolicy (not watched) is undone. */
const RESYNC_MS = 60_000;

export class Reconciler {
  private readonly tokens: TokenKeeper;
  // Skipped checkpoints already told as events (skipped-checkpoints.ts), by pod and path.
  private readonly toldSkips = new Set<string>();
  private readonly events: EventRecorder;
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? ((): Date => new Date());
    this.tokens = new TokenKeeper(deps.kube);
    this.events = new EventRecorder(deps.kube, deps.log);
  }

  async reconcile(key: string): Promise<Result> {
    const cached = this.deps.jobs.store.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return {};
    const job = structuredClone(cached);
    const snapshot: JobStatus = structuredClone(job.status ?? {});
    const pass: Pass = { job, ns: job.metadata.namespace ?? 'default', pods: this.ownedPods(job), events: [], requeue: [], refused: [] };
    const status = isFinished(snapshot.conditions) ? await this.finished(pass) : await this.active(pass, snapshot);
    if (status && !isDeepStrictEqual(status, snapshot)) {
      if (!(await this.writeStatus(pass, snapshot, status))) return {};
      pass.events.push(...transitions(snapshot.conditions ?? [], status.conditions ?? []));
    }
    await this.events.record(job, pass.events);
    return result(pass);
  }

  private ownedPods(job: ForwardForwardJob): V1Pod[] {
    const out: V1Pod[] = [];
    for (const pod of this.deps.pods.store.values()) {
      const m = pod.metadata;
      if (m?.namespace !== job.metadata.namespace || m?.labels?.[JOB_NAME_LABEL] !== job.metadata.name) continue;
      if (m?.ownerReferences?.some((o) => o.controller && o.uid === job.metadata.uid)) out.push(pod);
    }
    return out;
  }

  // A finished job: clean its pods per cleanPodPolicy, then wait out its TTL.
  private async finished(pass: Pass): Promise<undefined> {
    await this.deletePods(pass, podsToClean(pass.job.spec.runPolicy.cleanPodPolicy as CleanPodPolicy, pass.pods), 'job finished');
    this.tokens.forget(pass.job);
    const ttl = evaluateTtl(pass.job, this.now());
    if (ttl.requeueAfterMs !== undefined) pass.requeue.push(ttl.requeueAfterMs);
    if (ttl.deleteNow) await this.deleteJob(pass);
    return undefined;
  }

  private async active(pass: Pass, snapshot: JobStatus): Promise<JobStatus> {
    const { job } = pass;
    const now = this.now();
    const base = { pods: pass.pods, restarts: snapshot.restarts ?? {}, restarting: false, now };
    if (isSuspended(job)) {
      await this.deletePods(pass, podsToSuspend(pass.pods), 'job suspended');
      return computeStatus(job, { ...base, pods: [], suspended: true, created: hasCondition(snapshot, 'Created') });
    }
    const invalid = this.refusal(job);
    if (invalid) return this.fail(pass, base, invalid);
    const failures = evaluateFailures(job, pass.pods, snapshot.restarts ?? {}, { now, backoff: this.deps.backoff ?? DEFAULT_BACKOFF });
    const deadlines = evaluateDeadlines(job, pass.pods, snapshot.startTime, now);
    const fail = failures.fail ?? deadlines.fail;
    if (fail) return this.fail(pass, { ...base, restarts: failures.restarts }, fail);
    for (const ms of [failures.requeueAfterMs, deadlines.requeueAfterMs]) if (ms !== undefined) pass.requeue.push(ms);
    pass.requeue.push(RESYNC_MS);
    await this.applySupporting(pass);
    await this.restart(pass, failures.deleteNow);
    const created = await this.createMissing(pass, failures.restarts, new Set([...failures.waiting, ...failures.deleteNow]));
    const restarting = failures.waiting.length + failures.deleteNow.length > 0;
    const reports = await this.workerReports(pass);
    pass.events.push(...skippedCheckpointEvents(reports, this.toldSkips));
    const progress = await this.stalledWorkers(pass, reports, { marks: snapshot.workerProgress ?? {}, restarts: failures.restarts }, now);
    if (progress.fail) return this.fail(pass, { ...base, restarts: progress.restarts }, progress.fail);
    const status = computeStatus(job, {
      ...base,
      restarts: progress.restarts,
      restarting,
      suspended: false,
      created,
      reports,
      refused: refusedCreate(pass),
    });
    return { ...status, workerProgress: progress.marks };
  }

  // Refusals decided from the job alone, before any pod is created.
  private refusal(job: ForwardForwardJob): Failure | undefined {
    return invalidName(job) ?? unsupported(job) ?? hostAccessRefusal(job, this.deps.allowHostAccess === true) ?? memoryRefusal(job);
  }

  // The progress deadline (progress-deadline.ts): stalled pods are named and deleted, to be recreated.
  private async stalledWorkers(
    pass: Pass,
    reports: WorkerReport[],
    stored: Parameters<typeof evaluateProgress>[2],
    now: Date,
  ): Promise<ProgressDecision> {
    const progress = evaluateProgress(pass.job, { pods: pass.pods, reports }, stored, now);
    if (progress.fail) return progress;
    if (progress.requeueAfterMs !== undefined) pass.requeue.push(progress.requeueAfterMs);
    for (const message of progress.messages) pass.events.push({ type: 'Warning', reason: 'ProgressDeadlineExceeded', message });
    await this.deletePods(pass, progress.restartNow, 'progress deadline exceeded');
    return progress;
  }

  // Progress comes from the workers themselves; while any runs, look again a little later.
  private async workerReports(pass: Pass): Promise<WorkerReport[]> {
    const running = reportingPods(pass.pods);
    if (running.length === 0) return [];
    pass.requeue.push(PROGRESS_REFRESH_MS);
    const reports = await Promise.all(running.map((p) => fetchReport(p, pass.job.spec.worker.metricsPort)));
    return reports.filter((r): r is WorkerReport => r !== undefined);
  }

  private async fail(
    pass: Pass,
    base: Omit<Parameters<typeof computeStatus>[1], 'suspended' | 'created'>,
    fail: Failure,
  ): Promise<JobStatus> {
    await this.deletePods(pass, podsToClean(pass.job.spec.runPolicy.cleanPodPolicy as CleanPodPolicy, pass.pods), fail.reason);
    return computeStatus(pass.job, { ...base, fail, suspended: false, created: pass.pods.length > 0 });
  }

  private async applySupporting(pass: Pass): Promise<void> {
    const token = await this.attempt(
      pass,
      { event: 'FailedGet', condition: 'ApplyFailed', what: 'reading the token Secret' },
      this.tokens.token(pass.job),
    );
    if (token === undefined) return;
    for (const object of supportingObjects(pass.job, token, this.deps.networkPolicy?.metricsPeers)) {
      await this.attempt(
        pass,
        { event: 'FailedApply', condition: 'ApplyFailed', what: `applying ${object.kind} ${object.name}` },
        apply(this.deps.kube, object),
      );
    }
  }

  private async createMissing(pass: Pass, restarts: Record<string, number>, skip: Set<string>): Promise<boolean> {
    const present = new Set(pass.pods.map((p) => p.metadata?.name));
    let complete = true;
    for (const slot of slots(pass.job)) {
      if (present.has(slot.name) || skip.has(slot.name)) continue;
      const created = await this.createPod(pass, desiredPod(pass.job, slot, restarts[slot.name] ?? 0));
      if (created) pass.events.push({ type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${slot.name}` });
      complete &&= created;
    }
    const deleting = pass.pods.some(isDeleting);
    if (deleting) pass.requeue.push(1000);
    return complete && !deleting;
  }

  // A failed pod (a group, or one replica of it) is restarted alone: deleted here, recreated once it is gone.
  private async restart(pass: Pass, names: readonly string[]): Promise<void> {
    for (const name of names) {
      if (!(await this.deletePod(pass, name))) continue;
      this.deps.onPodRestart?.();
      pass.events.push({ type: 'Warning', reason: 'RestartingGroup', message: `Deleted failed pod ${name} to recreate it` });
    }
  }

  private async deletePods(pass: Pass, names: readonly string[], why: string): Promise<void> {
    for (const name of names) {
      if (await this.deletePod(pass, name))
        pass.events.push({ type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted pod: ${name} (${why})` });
    }
  }

  private async deletePod(pass: Pass, name: string): Promise<boolean> {
    const deletion = ignoreNotFound(this.deps.kube.request('DELETE', `/api/v1/namespaces/${pass.ns}/pods/${name}`));
    return (await this.attempt(pass, { event: 'FailedDelete', what: `deleting pod ${name}` }, deletion)) !== undefined;
  }

  // AlreadyExists means a stale cache saw the pod missing, which is fine.
  private async createPod(pass: Pass, pod: V1Pod): Promise<boolean> {
    const name = pod.metadata?.name ?? '';
    const creation = ignoreConflict(
      this.deps.kube.request('POST', `/api/v1/namespaces/${pass.ns}/pods`, { body: pod, query: { fieldManager: FIELD_MANAGER } }),
    );
    const what = { event: 'FailedCreate' as const, condition: 'PodCreateFailed' as const, what: `creating pod ${name}` };
    return (
      (await this.attempt(
        pass,
        what,
        creation.then(() => true),
      )) ?? false
    );
  }

  // Runs one write; a refusal is recorded (event now, condition and error at the end of the pass) instead of thrown.
  private async attempt<T>(
    pass: Pass,
    how: { event: string; condition?: Refusal['condition']; what: string },
    write: Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await write;
    } catch (err) {
      const message = `${how.what}: ${(err as Error).message}`;
      pass.refused.push({ message, condition: how.condition });
      pass.events.push({ type: 'Warning', reason: how.event, message });
      return undefined;
    }
  }

  private async deleteJob(pass: Pass): Promise<void> {
    const deletion = ignoreNotFound(
      this.deps.kube.request('DELETE', `${jobPath(pass.job)}`, { body: { propagationPolicy: 'Background' } }),
    );
    if ((await this.attempt(pass, { event: 'FailedDelete', what: 'deleting the finished job' }, deletion)) !== undefined) {
      this.deps.log.info('deleted finished job after its TTL', { job: `${pass.ns}/${pass.job.metadata.name}` });
    }
  }

  // Merge patch of the whole status; fields that disappeared are sent as null. False: job gone.
  private async writeStatus(pass: Pass, old: JobStatus, status: JobStatus): Promise<boolean> {
    const patch: Record<string, unknown> = { ...status };
    for (const key of Object.keys(old)) if (!(key in status)) patch[key] = null;
    const write = this.deps.kube.request('PATCH', `${jobPath(pass.job)}/status`, {
      body: { status: patch },
      contentType: PATCH_TYPES.merge,
      query: { fieldManager: FIELD_MANAGER },
    });
    return (await ignoreNotFound(write)) !== undefined;
  }
}

// The joined refusals, once status and events are written, so the queue backs off; else the next look.
function result(pass: Pass): Result {
  if (pass.refused.length > 0) throw new RefusedWrites(pass.refused.map((r) => r.message));
  return pass.requeue.length > 0 ? { requeueAfterMs: Math.max(0, Math.min(...pass.requeue)) } : {};
}

// The first refusal that keeps the job from being created, for Created=False.
function refusedCreate(pass: Pass): Observation['refused'] {
  const refusal = pass.refused.find((r) => r.condition !== undefined);
  return refusal?.condition ? { reason: refusal.condition, message: refusal.message } : undefined;
}

function jobPath(job: ForwardForwardJob): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${job.metadata.namespace}/${PLURAL}/${job.metadata.name}`;
}

function hasCondition(status: JobStatus, type: Condition['type']): boolean {
  return status.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

// The CRD refuses such names now; this catches objects stored before it did.
function invalidName(job: ForwardForwardJob): Failure | undefined {
  const name = job.metadata.name ?? '';
  const broken = OBJECT_RULES.filter((r) => !r.holds({ metadata: { name }, spec: job.spec }));
  if (broken.length === 0) return undefined;
  return { reason: 'InvalidJob', message: `metadata.name "${name}": ${broken.map((r) => r.message).join('; ')}` };
}

// A spec the API accepts but the workers cannot run fails before any pod is created.
function unsupported(job: ForwardForwardJob): Failure | undefined {
  const fields = unsupportedFeatures(job.spec);
  return fields.length > 0 ? { reason: 'UnsupportedSpec', message: fields.join('; ') } : undefined;
}

/** transitions are the events for conditions whose status changed to True. */
export function transitions(before: readonly Condition[], after: readonly Condition[]): JobEvent[] {
  return after
    .filter((c) =>
      changed(
        before.find((b) => b.type === c.type),
        c,
      ),
    )
    .map(eventFor);
}

// A condition changed when its status or reason did; a new one only when it starts True.
function changed(old: Condition | undefined, c: Condition): boolean {
  if (!old) return c.status === 'True';
  return old.status !== c.status || old.reason !== c.reason;
}

function eventFor(c: Condition): JobEvent {
  const warning = c.status === 'True' && (c.type === 'Failed' || c.type === 'Restarting');
  return { type: warning ? 'Warning' : 'Normal', reason: c.reason ?? c.type, message: `${c.type}=${c.status}: ${c.message ?? ''}` };
}
