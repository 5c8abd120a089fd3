import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivationBatch } from './activation-batch.js';
import { createActivationQueue } from './activation-queue.js';

const batch = (chapter: number, step: number): ActivationBatch => ({ chapter, step, values: Float32Array.of(chapter, step) });

function queueWithCount() {
  const released = { count: 0 };
  return { queue: createActivationQueue((n) => (released.count += n)), released };
}

void describe('activation queue', () => {
  void it('answers a step that arrives after the ask, and releases what it hands out', async () => {
    const { queue, released } = queueWithCount();
    const asked = queue.next(2, 40, 1000);
    queue.deliver(batch(2, 40));
    assert.deepEqual(await asked, { batch: batch(2, 40) });
    assert.equal(released.count, 1);
  });

  void it('drops the steps a restarted sender replays, releasing them', async () => {
    const { queue, released } = queueWithCount();
    [38, 39, 40, 41].forEach((s) => queue.deliver(batch(2, s)));
    assert.deepEqual(await queue.next(2, 40, 10), { batch: batch(2, 40) });
    assert.equal(released.count, 3, '38 and 39 dropped, 40 taken');
    assert.deepEqual(await queue.next(2, 41, 10), { batch: batch(2, 41) });
  });

  void it('reports a stream that skipped the asked step, or broke, as broken', async () => {
    const { queue } = queueWithCount();
    queue.deliver(batch(3, 0));
    assert.match(((await queue.next(2, 40, 10)) as { broken: string }).broken, /went on at chapter 3 step 0 without step 40/);
    const waiting = queue.next(3, 1, 1000);
    queue.broken(3, 'the sender cancelled');
    assert.deepEqual(await waiting, { broken: 'the sender cancelled' });
  });

  void it('drops a given-up chapter now and when more of it arrives, keeping later chapters', async () => {
    const { queue, released } = queueWithCount();
    [batch(4, 10), batch(4, 11), batch(5, 0)].forEach((b) => queue.deliver(b));
    queue.abandon(4);
    queue.deliver(batch(4, 12));
    assert.equal(released.count, 3);
    assert.deepEqual(await queue.next(5, 0, 10), { batch: batch(5, 0) });
  });

  void it('gives up after the timeout, naming chapter and step', async () => {
    const { queue } = queueWithCount();
    await assert.rejects(queue.next(1, 7, 20), /no activations for chapter 1 step 7 within 0\.02 s/);
  });
});
