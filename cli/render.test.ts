import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newGroupView, type GroupView } from './group-view.js';
import { bar, chapterLine, formatRate, layersLabel, progressLine } from './render.js';

function view(overrides: Partial<GroupView>): GroupView {
  return { ...newGroupView(1, [1], 10), ...overrides };
}

void describe('progressLine', () => {
  const cases: { name: string; view: GroupView; want: string }[] = [
    {
      name: 'a training group shows chapter, bar, percent, loss and rate',
      view: view({ phase: 'training', chapter: 2, step: 62, steps: 100, loss: 0.4149, samplesPerSecond: 9812 }),
      want: 'group 1 · layers 1 · chapter 3/10 ██████░░░░ 62% · loss 0.41 · 9.8k samples/s',
    },
    {
      name: 'a group that has not reported yet is starting',
      view: view({}),
      want: 'group 1 · layers 1 · starting…',
    },
    {
      name: 'a finished last group shows its test accuracy and no rate',
      view: view({
        layers: [2, 3],
        phase: 'finished',
        chapter: 9,
        step: 50,
        steps: 50,
        loss: 0.2,
        samplesPerSecond: 12000,
        testAccuracy: 0.9123,
      }),
      want: 'group 1 · layers 2-3 · chapter 10/10 ██████████ 100% · loss 0.20 · test 91.2% · done',
    },
    {
      name: 'restarts are counted',
      view: view({ phase: 'restarting', chapter: 0, step: 10, steps: 40, restarts: 2 }),
      want: 'group 1 · layers 1 · chapter 1/10 ███░░░░░░░ 25% · restarting · 2 restarts',
    },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.equal(progressLine(c.view), c.want));
  }
});

void describe('render helpers', () => {
  void it('bar clamps and rounds to its width', () => {
    assert.equal(bar(0), '░░░░░░░░░░');
    assert.equal(bar(0.04), '░░░░░░░░░░');
    assert.equal(bar(0.05), '█░░░░░░░░░');
    assert.equal(bar(1.7, 4), '████');
  });

  void it('formatRate keeps two or three significant figures', () => {
    assert.deepEqual([850.4, 9812, 12_345, 1_340_000].map(formatRate), ['850', '9.8k', '12k', '1.3M']);
  });

  void it('layersLabel names a single layer or a range', () => {
    assert.equal(layersLabel([0]), 'layers 0');
    assert.equal(layersLabel([4, 5, 6]), 'layers 4-6');
  });

  void it('chapterLine reports a finished chapter for logs', () => {
    const v = view({ group: 0, layers: [0], chapters: 2, loss: 0.5, samplesPerSecond: 365 });
    assert.equal(chapterLine(v, 0, 12.34), 'group 0 · layers 0 · chapter 1/2 done in 12.3 s · loss 0.50 · 365 samples/s');
  });
});
