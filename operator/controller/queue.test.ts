import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from './queue.js';

void describe('WorkQueue', () => {
  void it('de-duplicates keys that are waiting', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'ns/a');
    assert.equal(await q.get(), 'ns/b');
  });

  void it('never hands out a key twice at once; a key added while processing comes back after done', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    const key = await q.get();
    q.add('ns/a');
    assert.equal(q.len(), 0, 'not queued while being processed');
    q.done(key!);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'ns/a');
  });

  void it('wakes a waiting get', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.add('ns/a');
    assert.equal(await pending, 'ns/a');
  });

  void it('addAfter delays and keeps the earliest', async () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 1000);
    q.addAfter('ns/a', 20);
    assert.equal(q.len(), 0);
    await sleep(60);
    assert.equal(q.len(), 1);
    q.shutDown();
  });

  void it('addRateLimited backs off exponentially per key and forget resets it', async () => {
    const q = new WorkQueue({ baseMs: 20, maxMs: 1000 });
    q.addRateLimited('ns/a');
    await sleep(50);
    assert.equal(await q.get(), 'ns/a');
    q.done('ns/a');
    q.addRateLimited('ns/a');
    await sleep(25);
    assert.equal(q.len(), 0, 'second failure waits 40 ms');
    await sleep(40);
    assert.equal(q.len(), 1);
    q.forget('ns/a');
    q.shutDown();
  });

  void it('shutDown releases waiters', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.shutDown();
    assert.equal(await pending, undefined);
  });
});
