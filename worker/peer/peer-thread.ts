// The receiving peer on its own thread. The training loop holds the main thread for up to
// a second between yields, and HTTP/2 flow control (grpc-js servers keep the 64 KiB
// default window) needs the receiver to answer every 64 KiB: served from the main thread, a
// 3 MB layer took ~4 s to cross and stalled the sender for all of it. On its own thread the
// server answers at once, and the main thread only picks up the finished bundle.
import { Worker } from 'node:worker_threads';
import { createInbox, type Inbox } from './inbox.js';
import type { PeerServerOptions } from './peer-server.js';
import type { TransferEvent } from './transfer-observer.js';
import type { WeightBundle } from './weight-bundle.js';
import type { PeerStatus } from './worker-status.js';

/** What crosses to the thread: the server's options less its callbacks. */
export type PeerThreadOptions = Omit<PeerServerOptions, 'status' | 'onTransfer' | 'onBundle'>;

export type ThreadMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'bundle'; bundle: WeightBundle }
  | { type: 'transfer'; event: TransferEvent }
  | { type: 'closed' };

export type ThreadCommand = { type: 'status'; status: Omit<PeerStatus, 'latestChapterReceived'> } | { type: 'close'; graceMs: number };

export interface PeerThread {
  port: number;
  inbox: Inbox;
  /** Tells GetStatus what the worker is doing; call on every change. */
  setStatus(status: Omit<PeerStatus, 'latestChapterReceived'>): void;
  close(graceMs?: number): Promise<void>;
}

export function startPeerThread(options: PeerThreadOptions, onTransfer?: (e: TransferEvent) => void): Promise<PeerThread> {
  // The thread runs TypeScript like the rest of the worker, so it registers tsx itself:
  // module hooks registered on the main thread do not reach worker threads.
  const entry = new URL('./peer-thread-entry.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: options });
  const inbox = createInbox({ capacity: options.inboxCapacity ?? 4, sender: options.upstreamGroup === undefined ? 'any group' : `group ${options.upstreamGroup}` });
  let closed: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (message: ThreadMessage) => {
      if (message.type === 'ready') {
        resolve({
          port: message.port,
          inbox,
          setStatus: (status) => worker.postMessage({ type: 'status', status } satisfies ThreadCommand),
          close: (graceMs = 5000) =>
            new Promise<void>((done) => {
              closed = done;
              inbox.close(`peer server on port ${message.port} closed`);
              worker.postMessage({ type: 'close', graceMs } satisfies ThreadCommand);
            }),
        });
      } else if (message.type === 'failed') reject(new Error(message.message));
      else if (message.type === 'bundle') inbox.deliver(message.bundle);
      else if (message.type === 'transfer') onTransfer?.(message.event);
      else {
        void worker.terminate();
        closed?.();
      }
    });
  });
}
