// A list-then-watch cache of one resource, like client-go's reflector: list, then watch
// from the list's resourceVersion; a watch that ends is resumed from the last version
// seen; 410 Gone (the version fell out of etcd's window) re-lists; any other error waits
// (1 s doubling to 30 s, through an injectable delay so tests control time) and re-lists,
// which is also how it survives an API server restart. Handlers get every object that
// changed, never the event type: the reconciler is level-triggered.
import type { Kube, WatchEvent } from '../kube/client.js';
import { isStatus, KubeError } from '../kube/client.js';
import type { Logger } from '../../observe/log.js';

/** Meta is the part of an object the cache reads. */
export interface Meta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
}

interface List<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}

export interface InformerOptions {
  /** path lists the resource, e.g. /api/v1/pods. */
  path: string;
  labelSelector?: string;
  log: Logger;
  /** delay waits between failed attempts; tests replace it. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** watchTimeoutSeconds makes the server end each watch, so a silently dead one is noticed. */
  watchTimeoutSeconds?: number;
}

/** keyOf is "namespace/name" (just "name" for cluster-scoped objects). */
export function keyOf(obj: Meta): string {
  const { namespace, name } = obj.metadata ?? {};
  return namespace ? `${namespace}/${name}` : (name ?? '');
}

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class Informer<T extends Meta> {
  /** store holds the latest version of every object, by keyOf. */
  readonly store = new Map<string, T>();
  private readonly handlers: ((obj: T) => void)[] = [];
  private readonly abort = new AbortController();
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  /** relists counts full lists after the first; tests read it. */
  relists = 0;

  constructor(
    private readonly kube: Kube,
    private readonly opts: InformerOptions,
  ) {}

  /** onChange registers a handler for objects added, changed, deleted or re-listed. */
  onChange(handler: (obj: T) => void): void {
    this.handlers.push(handler);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** synced resolves once the first list has filled the store. */
  async waitForSync(): Promise<void> {
    if (this.synced) return;
    await new Promise<void>((resolve) => this.syncWaiters.push(resolve));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private emit(obj: T): void {
    for (const h of this.handlers) h(obj);
  }

  private async run(): Promise<void> {
    const delay = this.opts.delay ?? sleep;
    let backoff = MIN_BACKOFF_MS;
    while (!this.abort.signal.aborted) {
      try {
        let rv = await this.list();
        backoff = MIN_BACKOFF_MS;
        for (;;) rv = await this.watchFrom(rv);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (isStatus(err, 410)) {
          this.opts.log.info('watch expired, re-listing', { path: this.opts.path });
          continue;
        }
        this.opts.log.warn('list/watch failed, retrying', { path: this.opts.path, err: err as Error, retryMs: backoff });
        await delay(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async list(): Promise<string> {
    const list = await this.kube.request<List<T>>('GET', this.opts.path, {
      query: { labelSelector: this.opts.labelSelector },
      signal: this.abort.signal,
    });
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      seen.add(key);
      this.store.set(key, item);
      this.emit(item);
    }
    for (const [key, old] of this.store) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      this.emit(old);
    }
    if (this.synced) this.relists++;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
    return list.metadata?.resourceVersion ?? '';
  }

  // Watches until the server ends the stream; returns the version to resume from.
  private async watchFrom(resourceVersion: string): Promise<string> {
    let rv = resourceVersion;
    const query = {
      resourceVersion: rv,
      labelSelector: this.opts.labelSelector,
      allowWatchBookmarks: true,
      timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
    };
    await this.kube.watch<T & { code?: number; message?: string }>(
      this.opts.path,
      query,
      (e) => {
        rv = this.apply(e as WatchEvent<T>) ?? rv;
      },
      this.abort.signal,
    );
    if (this.abort.signal.aborted) throw new Error('stopped');
    return rv;
  }

  private apply(e: WatchEvent<T>): string | undefined {
    if (e.type === 'ERROR') {
      const status = e.object as unknown as { code?: number; message?: string; reason?: string };
      throw new KubeError(status.code ?? 500, status.reason ?? '', status.message ?? 'watch error');
    }
    const rv = e.object.metadata?.resourceVersion;
    if (e.type === 'BOOKMARK') return rv;
    const key = keyOf(e.object);
    if (e.type === 'DELETED') this.store.delete(key);
    else this.store.set(key, e.object);
    this.emit(e.object);
    return rv;
  }
}
