import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInbox } from './inbox.js';
import type { WeightBundle } from './weight-bundle.js';

function bundle(chapter: number): WeightBundle {
  return { job: 'j', fromGroup: 0, chapter, tensors: [] };
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

  void it('rejects pending waits when closed', async () => {
    const inbox = createInbox({ capacity: 2, sender: 'group 0' });
    const waiting = inbox.waitFor(1, 10_000);
    inbox.close('peer server closed');
    await assert.rejects(waiting, /peer server closed/);
    await assert.rejects(inbox.waitFor(2, 10_000), /peer server closed/);
  });
});
