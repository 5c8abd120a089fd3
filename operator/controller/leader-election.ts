// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection:
// a candidate takes the lease when it is free or its holder has not renewed it within
// leaseDuration (measured on this process's clock from when it last saw the record change,
// so clocks need not agree), renews every retryPeriod, and steps down when it cannot renew
// for renewDeadline. Every write carries the resourceVersion read, so two candidates never
// both win. A leader that stops cleanly releases the lease so another takes over at once.
import type { Kube } from '../kube/client.js';
import { ignoreConflict, ignoreNotFound } from '../kube/ignore.js';
import type { Logger } from '../../observe/log.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  now?: () => number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  // The record as last seen and when (local clock) it last changed.
  private observed: { holder: string; renewTime: string; at: number } | undefined;
  private lastRenew = 0;

  constructor(
    private readonly kube: Kube,
    private readonly opts: LeaderElectionOptions,
  ) {}

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** stop steps down (releasing the lease when `release`) and waits for the loop to end. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leading && release) await this.release();
    this.setLeading(false);
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.tryAcquireOrRenew().catch((err: unknown) => {
        this.opts.log.warn('leader election: lease update failed', { err: err as Error });
        return false;
      });
      if (ok) this.lastRenew = this.now();
      if (this.leading && !ok && this.now() - this.lastRenew >= this.opts.renewDeadlineMs) {
        this.opts.log.warn('leader election: could not renew the lease in time, stepping down');
        this.setLeading(false);
      } else if (ok && !this.leading) {
        this.setLeading(true);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, this.opts.retryPeriodMs).unref();
      });
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.opts.log.info(leading ? 'became leader' : 'stopped leading', { identity: this.opts.identity, lease: this.opts.name });
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private spec(previous: Lease['spec'] | undefined): Lease['spec'] {
    const now = microTime(this.now());
    const mine = previous?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000)),
      acquireTime: mine ? (previous?.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (mine || !previous ? 0 : 1),
    };
  }

  // True when this candidate holds the lease after the call.
  private async tryAcquireOrRenew(): Promise<boolean> {
    const lease = await ignoreNotFound(this.kube.request<Lease>('GET', `${this.path}/${this.opts.name}`));
    if (lease === undefined) {
      const body = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: this.spec(undefined),
      };
      return this.write('POST', this.path, body);
    }
    const holder = lease.spec.holderIdentity ?? '';
    const renewTime = lease.spec.renewTime ?? '';
    if (!this.observed || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, renewTime, at: this.now() };
    }
    const expired = this.now() - this.observed.at >= (lease.spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.opts.identity && !expired) return false;
    return this.write('PUT', `${this.path}/${this.opts.name}`, { ...lease, spec: this.spec(lease.spec) });
  }

  // A conflict means another candidate wrote first: not an error, just not ours.
  private async write(method: string, path: string, body: Lease | object): Promise<boolean> {
    return (await ignoreConflict(this.kube.request(method, path, { body }))) !== undefined;
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.kube.request<Lease>('GET', `${this.path}/${this.opts.name}`);
      if (lease.spec.holderIdentity !== this.opts.identity) return;
      const spec = { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(this.now()) };
      await this.kube.request('PUT', `${this.path}/${this.opts.name}`, { body: { ...lease, spec } });
    } catch (err) {
      this.opts.log.warn('leader election: could not release the lease', { err: err as Error });
    }
  }
}
