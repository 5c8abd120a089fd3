// Batches of activities cross between the training loop and the peer thread through a ring
// of shared buffers instead of a fresh transferred array each step. Every 1 MB array made or
// moved into an isolate counts towards V8's external-memory trigger, and at one or two of
// them a step the two processes of the quick example ran a full GC every ~20 steps: their
// GC threads took ~12 s each over 8 epochs against ~3 s for the sequential run.
//
// The writer fills slot k of the ring and sends only k; the reader's views stay valid as long
// as the flow control above the ring (activation-queue.ts, peer-thread.ts's outbox) never
// lets the writer come round to a slot the reader has not finished with. A slot's memory is
// made the first time the writer reaches it, and handed over with that first batch.

/** The writing side: which slot the next batch goes in, and its memory when it is new. */
export interface SlotWrite {
  slot: number;
  values: Float32Array;
  /** Set the first time the slot is used: the reader keeps it for the later batches. */
  created?: SharedArrayBuffer;
}

export class SlotWriter {
  private readonly views: Float32Array[] = [];
  private next = 0;

  constructor(
    private readonly slots: number,
    private readonly values: number,
  ) {}

  take(): SlotWrite {
    const slot = this.next;
    this.next = (this.next + 1) % this.slots;
    const existing = this.views[slot];
    if (existing) return { slot, values: existing };
    const created = new SharedArrayBuffer(this.values * Float32Array.BYTES_PER_ELEMENT);
    const values = new Float32Array(created);
    this.views[slot] = values;
    return { slot, values, created };
  }
}

export class SlotReader {
  private readonly views = new Map<number, Float32Array>();

  /** The values of `slot`, a view (no copy); `created` comes with the slot's first batch. */
  read(slot: number, created?: SharedArrayBuffer): Float32Array {
    if (created) this.views.set(slot, new Float32Array(created));
    const view = this.views.get(slot);
    if (view === undefined) throw new Error(`activation slot ${slot} was read before its memory was handed over`);
    return view;
  }
}
