import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ringScope, ringTag, type SyncScope } from './collectives.js';
import { pairRing } from './consensus.js';

void test('ringScope reads back the scope of every tag ringTag makes, for the bytes metric', () => {
  const cases: { scope: SyncScope; index: number; purpose: 'gradients' | 'parameters' | 'loss'; wantTag: string }[] = [
    { scope: 'group', index: 0, purpose: 'gradients', wantTag: 'group-gradients' },
    { scope: 'group', index: 0, purpose: 'loss', wantTag: 'group-loss' },
    { scope: 'node', index: 3, purpose: 'gradients', wantTag: 'node3-gradients' },
    { scope: 'node', index: 0, purpose: 'parameters', wantTag: 'node0-parameters' },
    { scope: 'global', index: 1, purpose: 'parameters', wantTag: 'global1-parameters' },
  ];
  for (const c of cases) {
    const tag = ringTag(c.scope, c.index, c.purpose);
    assert.equal(tag, c.wantTag);
    assert.equal(ringScope(tag), c.scope, tag);
  }
});

void test("ringScope counts consensus's ring of two neighbours as scope pair", () => {
  assert.equal(ringScope(pairRing(2, 0, ['a', 'b', 'c']).tag), 'pair');
});
