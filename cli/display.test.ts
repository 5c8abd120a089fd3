import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventNote, ProgressDisplay } from './display.js';
import { newGroupView } from './group-view.js';
import { buildSummary, summaryText } from './summary.js';

function capture(isTTY: boolean): { stream: { isTTY: boolean; columns: number; write(c: string): void }; text: () => string } {
  const chunks: string[] = [];
  return { stream: { isTTY, columns: 200, write: (c: string) => void chunks.push(c) }, text: () => chunks.join('') };
}

void describe('ProgressDisplay', () => {
  void it('on a terminal redraws the group lines in place below notes', () => {
    const out = capture(true);
    const display = new ProgressDisplay(out.stream);
    const views = [newGroupView(0, [0], 2), newGroupView(1, [1], 2)];
    display.show(views);
    display.note('group 0 started');
    display.note('group 1 started');
    display.close();
    const text = out.text();
    // The second note moves up over the two progress lines, clears them and draws them again.
    assert.ok(text.includes('\x1b[2A\r\x1b[Jgroup 1 started\ngroup 0 · layers 0 · starting…\ngroup 1 · layers 1 · starting…\n'), text);
    assert.ok(text.startsWith('\x1b[?25l'));
    assert.ok(text.endsWith('\x1b[?25h'));
  });

  void it('elsewhere prints notes as plain lines and no escapes', () => {
    const out = capture(false);
    const display = new ProgressDisplay(out.stream);
    display.show([newGroupView(0, [0], 2)]);
    display.note('group 0 started');
    display.close();
    assert.equal(out.text(), 'group 0 started\n');
  });

  void it('reports chapters and accuracy as lines only when not on a terminal', () => {
    const v = { ...newGroupView(1, [1], 2), loss: 0.25 };
    assert.equal(eventNote(v, { kind: 'chapterDone', chapter: 1, seconds: 2 }, true), undefined);
    assert.equal(
      eventNote(v, { kind: 'chapterDone', chapter: 1, seconds: 2 }, false),
      'group 1 · layers 1 · chapter 2/2 done in 2.0 s · loss 0.25',
    );
    assert.equal(
      eventNote(v, { kind: 'testAccuracy', chapter: 1, testAccuracy: 0.5 }, false),
      'group 1 · test accuracy 50.0% after chapter 2/2',
    );
    assert.equal(eventNote(v, { kind: 'resumed', chapter: 0 }, true), 'group 1 resumed from checkpoint (chapter 1/2 done)');
    assert.equal(
      eventNote({ ...v, replica: 1 }, { kind: 'rejoined', chapter: 1, step: 176, fromReplica: 0 }, true),
      'group 1 replica 1 rejoined its group from replica 0 at step 176 (chapter 2/2)',
    );
  });
});

void describe('summary', () => {
  const views = [
    {
      ...newGroupView(0, [0], 2),
      trainSeconds: 3.14159,
      restarts: 1,
      backend: { name: 'wasm', reason: 'skipped tensorflow: not installed' },
    },
    { ...newGroupView(1, [1, 2], 2), trainSeconds: 2, testAccuracy: 0.8512 },
  ];

  void it('takes the accuracy from the group that wrote the model and adds up restarts', () => {
    assert.deepEqual(buildSummary('tiny', views, 9.876, { modelPath: '/runs/tiny/model', finalWorker: 1 }), {
      job: 'tiny',
      testAccuracy: 0.8512,
      wallSeconds: 9.88,
      modelPath: '/runs/tiny/model',
      groups: [
        { group: 0, layers: [0], trainSeconds: 3.14, restarts: 1, backend: 'wasm', backendReason: 'skipped tensorflow: not installed' },
        { group: 1, layers: [1, 2], trainSeconds: 2, restarts: 0, backend: null, backendReason: null },
      ],
      restarts: 1,
    });
  });

  void it('a ring run takes the accuracy from the worker of the last chapter, not the last worker', () => {
    const ring = [
      { ...newGroupView(0, [0, 1], 3), testAccuracy: 0.9 },
      { ...newGroupView(1, [0, 1], 3), testAccuracy: 0.7 },
    ];
    assert.equal(buildSummary('tiny', ring, 1, { modelPath: '/m', finalWorker: 0 }).testAccuracy, 0.9);
  });

  void it("prints accuracy as a percentage and each group's time and backend", () => {
    const text = summaryText(buildSummary('tiny', views, 9.876, { modelPath: '/runs/tiny/model', finalWorker: 1 }));
    assert.match(text, /test accuracy {2}85\.1%/);
    assert.match(text, /group 0 {2}layers 0 · 3\.1 s training · 1 restart · backend wasm \(skipped tensorflow: not installed\)\n/);
    assert.match(text, /group 1 {2}layers 1-2 · 2\.0 s training\n/);
  });
});
