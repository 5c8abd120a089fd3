import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInbox } from './inbox.js';
import type { WeightBundle } from './weight-bundle.js';

function bundle(chapter: number, unit = 'layer0'): WeightBundle {
  return { job: 'j', fromGroup: 0, chapter, tensors: [{ name: `${unit}/w`, shape: [1], values: Float32Array.of(chapter) }] };
}

void describe('inbox', () => {
  void it('resolves a wait that started before the chapter arrived', async () => {
    const inbox = createInbox({ capacity: 2, sender: 'group 0' });
    const waiting = inbox.waitFor(4, 1000);
    inbox.deliver(bundle(3));
    inbox.deliver(bundle(4));
    assert.equal((await waiting).chapter, 4);
    assert.equal(inbox.latestChapter(), 4);
  });

  void it('keeps only the newest chapters and answers an older request with the earliest later one', async () => {
    const inbox = createInbox({ capacity: 2, sender: 'group 0' });
    [1, 2, 3].forEach((chapter) => inbox.deliver(bundle(chapter)));
    assert.equal((await inbox.waitFor(2, 10)).chapter, 2);
    assert.equal((await inbox.waitFor(1, 10)).chapter, 2, 'chapter 1 was discarded, 2 is the earliest kept');
  });

  void it('lets a restarted receiver catch up with a sender that is chapters ahead', async () => {
    const inbox = createInbox({ capacity: 2, sender: 'group 0' });
    const waiting = inbox.waitFor(3, 1000);
    inbox.deliver(bundle(5));
    assert.equal((await waiting).chapter, 5);
    await assert.rejects(inbox.waitFor(6, 20), /no weights for chapter 6 from group 0 within 0.02 s/);
  });

  void it('waitForExactly takes no later chapter in place of the one asked for', async () => {
    const inbox = createInbox({ capacity: 3, sender: 'group 1' });
    inbox.deliver(bundle(2, 'scores'));
    const waiting = inbox.waitForExactly(1, 1000, 'scores');
    inbox.deliver(bundle(3, 'scores'));
    inbox.deliver(bundle(1, 'scores'));
    assert.equal((await waiting).chapter, 1);
    await assert.rejects(inbox.waitForExactly(0, 20, 'scores'), /no weights for scores after chapter 0 from group 1/);
  });

  void it('rejects pending waits when closed', async () => {
    const inbox = createInbox({ capacity: 2, sender: 'group 0' });
    const waiting = inbox.waitFor(1, 10_000);
    inbox.close('peer server closed');
    await assert.rejects(waiting, /peer server closed/);
    await assert.rejects(inbox.waitFor(2, 10_000), /peer server closed/);
  });

  void it('ring: waits for one layer after a chapter; layers of the same chapter do not replace each other', async () => {
    const inbox = createInbox({ capacity: 2, sender: 'group 1' });
    const layer1 = inbox.waitFor(3, 1000, 'layer1');
    inbox.deliver(bundle(3, 'layer0'));
    inbox.deliver(bundle(3, 'head'));
    assert.equal((await inbox.waitFor(3, 10, 'layer0')).tensors[0]!.name, 'layer0/w');
    assert.equal((await inbox.waitFor(3, 10, 'head')).tensors[0]!.name, 'head/w');
    inbox.deliver(bundle(3, 'layer1'));
    assert.equal((await layer1).tensors[0]!.name, 'layer1/w');
    await assert.rejects(inbox.waitFor(4, 20, 'layer0'), /no weights for layer0 after chapter 4 from group 1 within 0.02 s/);
  });

  void it('ring: a layer kept at a later chapter answers an earlier request (a restarted worker catching up), the earliest first', async () => {
    const inbox = createInbox({ capacity: 2, sender: 'group 1' });
    [5, 7].forEach((chapter) => inbox.deliver(bundle(chapter, 'layer0')));
    inbox.deliver(bundle(9, 'layer1'));
    assert.equal((await inbox.waitFor(3, 10, 'layer0')).chapter, 5);
    assert.equal((await inbox.waitFor(6, 10, 'layer0')).chapter, 7);
    // Capacity counts per layer: a third chapter of layer0 drops its oldest, not layer1's.
    inbox.deliver(bundle(9, 'layer0'));
    assert.equal((await inbox.waitFor(3, 10, 'layer0')).chapter, 7);
    assert.equal((await inbox.waitFor(3, 10, 'layer1')).chapter, 9);
    assert.equal(inbox.latestChapter(), 9);
  });
});
