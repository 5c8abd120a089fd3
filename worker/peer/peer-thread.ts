// The receiving peer on its own thread. The training loop holds the main thread for up to
// a second between yields, and HTTP/2 flow control (grpc-js servers keep the 64 KiB
// default window) needs the receiver to answer every 64 KiB: served from the main thread, a
// 3 MB layer took ~4 s to cross and stalled the sender for all of it. On its own thread the
// server answers at once, and the main thread only picks up the finished bundle. The same
// thread streams this group's activities downstream when the job exchanges activations.
import { Worker } from 'node:worker_threads';
import { batchValues, type ActivationLayout } from './activation-batch.js';
import { createActivationQueue, type ActivationQueue } from './activation-queue.js';
import { createInbox, type Inbox } from './inbox.js';
import { SlotReader, SlotWriter } from './shared-slots.js';
import type { PeerServerOptions } from './peer-server.js';
import {
  createCollectiveDesk,
  type CollectiveAnswer,
  type CollectiveCommand,
  type Collectives,
  type RingSent,
} from './thread-collectives.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../proto/gen/ff/v1/layer_exchange.js';
import type { JoinAnswerer } from './join-handler.js';
import type { TransferEvent } from './transfer-observer.js';
import type { WeightBundle } from './weight-bundle.js';
import type { PeerStatus } from './worker-status.js';

/** Where this group's activities go, when the job exchanges activations. */
export interface DownstreamActivations {
  target: string;
  layout: ActivationLayout;
  /** Batches handed to the thread and not yet sent; past this many `send` waits. */
  capacity: number;
}

/** What crosses to the thread: the server's options less its callbacks. */
export type PeerThreadOptions = Omit<PeerServerOptions, 'status' | 'onTransfer' | 'onBundle' | 'onActivation' | 'onJoin'> & {
  group: number;
  downstreamActivations?: DownstreamActivations;
};

export interface SentChapter {
  chapter: number;
  batches: number;
  bytes: number;
  abandoned?: string;
}

export type ThreadMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'bundle'; bundle: WeightBundle }
  | { type: 'transfer'; event: TransferEvent }
  | { type: 'activation'; chapter: number; step: number; slot: number; created?: SharedArrayBuffer }
  | { type: 'activation-broken'; chapter: number; reason: string }
  | { type: 'sent-taken'; count: number }
  | { type: 'sent-chapter'; report: SentChapter }
  | CollectiveAnswer
  | { type: 'join'; id: number; request: JoinGroupRequest }
  | { type: 'closed' };

export type ThreadCommand =
  | { type: 'status'; status: Omit<PeerStatus, 'latestChapterReceived'> }
  | { type: 'activation-release'; count: number }
  | { type: 'send-begin'; chapter: number; firstStep: number }
  | { type: 'send-batch'; step: number; slot: number; created?: SharedArrayBuffer }
  | { type: 'send-end' }
  | CollectiveCommand
  | { type: 'join-answer'; id: number; response?: JoinGroupResponse; error?: string }
  | { type: 'close'; graceMs: number };

/** The training loop's side of the outgoing stream. */
export interface ActivationOutbox {
  begin(chapter: number, firstStep: number): void;
  /**
   * Hands a batch over: `write` fills the shared slot it goes in (batchValues long). Waits
   * while the thread holds `capacity` batches.
   */
  send(step: number, write: (slot: Float32Array) => Promise<void>): Promise<void>;
  end(): void;
}

export interface PeerThreadEvents {
  onTransfer?: (e: TransferEvent) => void;
  onSentChapter?: (report: SentChapter) => void;
  /** After each ring collective this member took part in: what it sent (for ffjob_sync_bytes_total). */
  onRingSent?: (report: RingSent) => void;
  /** Answers a replica of this group that (re)joins; without it JoinGroup is refused. */
  onJoin?: JoinAnswerer;
}

/** The ring collectives run wholly on the peer thread, over the rings in PeerThreadOptions.rings. */
export interface PeerThread extends Collectives {
  port: number;
  inbox: Inbox;
  /** The upstream group's streamed batches (when options.activations is set). */
  activations: ActivationQueue;
  /** This group's outgoing stream (when options.downstreamActivations is set). */
  outbox: ActivationOutbox;
  /** Tells GetStatus what the worker is doing; call on every change. */
  setStatus(status: Omit<PeerStatus, 'latestChapterReceived'>): void;
  close(graceMs?: number): Promise<void>;
}

// Compiled (dist/*.js) the thread loads its compiled entry. Run from the sources by tsx (the
// tests), it registers tsx itself: module hooks registered on the main thread do not reach
// worker threads.
function startThread(options: PeerThreadOptions): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./peer-thread-entry.js', import.meta.url), { workerData: options });
  const entry = new URL('./peer-thread-entry.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: options });
}

export function startPeerThread(options: PeerThreadOptions, events: PeerThreadEvents = {}): Promise<PeerThread> {
  const worker = startThread(options);
  const inbox = createInbox({
    capacity: options.inboxCapacity ?? 4,
    sender: options.upstreamGroup === undefined ? 'any group' : `group ${options.upstreamGroup}`,
  });
  const command = (c: ThreadCommand, transfer: ArrayBuffer[] = []): void => worker.postMessage(c, transfer);
  const activations = createActivationQueue((count) => command({ type: 'activation-release', count }));
  const incoming = new SlotReader();
  const outbox = createOutbox(options.downstreamActivations, command);
  const collectives = createCollectiveDesk(command, events.onRingSent);
  let closed: (() => void) | undefined;
  // Every message but the thread's life cycle goes to the queue or the callback it feeds.
  const relay = (message: ThreadMessage): void => {
    if (message.type === 'bundle') inbox.deliver(message.bundle);
    else if (message.type === 'transfer') events.onTransfer?.(message.event);
    else if (message.type === 'activation')
      activations.deliver({ chapter: message.chapter, step: message.step, values: incoming.read(message.slot, message.created) });
    else if (message.type === 'activation-broken') activations.broken(message.chapter, message.reason);
    else if (message.type === 'sent-taken') outbox.taken(message.count);
    else if (message.type === 'sent-chapter') events.onSentChapter?.(message.report);
    else if (message.type === 'collective-done' || message.type === 'collective-failed') collectives.answer(message);
    else if (message.type === 'join') answerJoin(message.id, message.request);
  };
  const answerJoin = (id: number, request: JoinGroupRequest): void => {
    const answer = events.onJoin ? events.onJoin(request) : Promise.reject(new Error('this worker does not take joins'));
    answer.then(
      (response) => command({ type: 'join-answer', id, response }),
      (error: Error) => command({ type: 'join-answer', id, error: error.message }),
    );
  };
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => collectives.abort(`the peer thread exited (code ${code})`));
    worker.on('message', (message: ThreadMessage) => {
      if (message.type === 'ready') {
        resolve({
          port: message.port,
          inbox,
          activations,
          outbox,
          allreduce: collectives.allreduce,
          broadcast: collectives.broadcast,
          setStatus: (status) => command({ type: 'status', status }),
          close: (graceMs = 5000) =>
            new Promise<void>((done) => {
              closed = done;
              inbox.close(`peer server on port ${message.port} closed`);
              activations.close(`peer server on port ${message.port} closed`);
              command({ type: 'close', graceMs });
            }),
        });
      } else if (message.type === 'failed') reject(new Error(message.message));
      else if (message.type === 'closed') {
        collectives.abort('the peer thread closed');
        void worker.terminate();
        closed?.();
      } else relay(message);
    });
  });
}

function createOutbox(
  downstream: DownstreamActivations | undefined,
  command: (c: ThreadCommand) => void,
): ActivationOutbox & { taken(count: number): void } {
  const capacity = downstream?.capacity ?? 1;
  // `capacity` slots are enough: batch n is written only once at most capacity − 1 batches
  // are outstanding, so batch n − capacity, the slot's last, was taken, and the thread reads
  // a slot (encoding its frame) before it reports the batch taken.
  const slots = downstream && new SlotWriter(capacity, batchValues(downstream.layout));
  let outstanding = 0;
  let room: (() => void) | undefined;
  return {
    begin: (chapter, firstStep) => command({ type: 'send-begin', chapter, firstStep }),
    async send(step, write) {
      if (slots === undefined) throw new Error('this worker streams no activations downstream');
      const { slot, values, created } = slots.take();
      await write(values);
      outstanding += 1;
      command({ type: 'send-batch', step, slot, ...(created ? { created } : {}) });
      if (outstanding >= capacity) await new Promise<void>((wake) => (room = wake));
    },
    end: () => command({ type: 'send-end' }),
    taken(count) {
      outstanding -= count;
      if (outstanding >= capacity || room === undefined) return;
      const wake = room;
      room = undefined;
      wake();
    },
  };
}
