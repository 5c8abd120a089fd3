import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makePod } from '../testing/builders.js';
import { podsToClean } from './clean-pod-policy.js';
import { podsToSuspend } from './suspend.js';

const pods = [
  makePod('j', 0).succeeded().obj(),
  makePod('j', 1).running().obj(),
  makePod('j', 2).obj(),
  makePod('j', 3).failed().deleting().obj(),
];

void describe('podsToClean', () => {
  const cases = [
    { name: 'All deletes every pod not already going', policy: 'All', want: ['j-g0-r0', 'j-g1-r0', 'j-g2-r0'] },
    { name: 'Running deletes only pods still pending or running', policy: 'Running', want: ['j-g1-r0', 'j-g2-r0'] },
    { name: 'None deletes nothing', policy: 'None', want: [] },
  ] as const;
  for (const c of cases) void it(c.name, () => assert.deepEqual(podsToClean(c.policy, pods), c.want));
});

void describe('podsToSuspend', () => {
  void it('deletes every pod not already going', () => assert.deepEqual(podsToSuspend(pods), ['j-g0-r0', 'j-g1-r0', 'j-g2-r0']));
});
