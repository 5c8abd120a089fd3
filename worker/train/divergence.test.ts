import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStats, checkTensors } from './divergence.js';
import type { LayerStats } from './group-trainer.js';

const fine: LayerStats = { layer: 0, loss: 0.69, goodnessPos: 1.1, goodnessNeg: 0.9 };

const statCases: { name: string; layers: LayerStats[]; wantError?: RegExp }[] = [
  { name: 'finite losses and goodness pass', layers: [fine, { ...fine, layer: 1 }] },
  { name: 'localSoftmax has no negative goodness, which is not a divergence', layers: [{ layer: 0, loss: 2.3, goodnessPos: 0.5 }] },
  {
    name: 'a NaN loss names its layer and chapter',
    layers: [fine, { ...fine, layer: 1, loss: NaN }],
    wantError: /layer 1 diverged in chapter 3: its loss is NaN; a smaller spec\.training\.optimizer\.learningRate/,
  },
  {
    name: 'an infinite goodness counts too',
    layers: [{ ...fine, goodnessNeg: Infinity }],
    wantError: /layer 0 diverged in chapter 3: its goodnessNeg is Infinity/,
  },
];

const tensorCases: { name: string; values: number[]; wantError?: RegExp }[] = [
  { name: 'finite weights pass', values: [0, -1e30, 3.4e38] },
  {
    name: 'a NaN weight names the tensor and the index',
    values: [0, 1, NaN],
    wantError: /tensor layer2\/w diverged in chapter 3: value 2 is NaN/,
  },
  {
    name: 'a negative infinity is found as well',
    values: [-Infinity],
    wantError: /tensor layer2\/w diverged in chapter 3: value 0 is -Infinity/,
  },
];

void describe('checkStats', () => {
  for (const c of statCases) {
    void it(c.name, () => {
      if (c.wantError) assert.throws(() => checkStats(c.layers, 3), c.wantError);
      else assert.doesNotThrow(() => checkStats(c.layers, 3));
    });
  }
});

void describe('checkTensors', () => {
  for (const c of tensorCases) {
    void it(c.name, () => {
      const tensors = [{ name: 'layer2/w', shape: [c.values.length], values: Float32Array.from(c.values) }];
      if (c.wantError) assert.throws(() => checkTensors(tensors, 3), c.wantError);
      else assert.doesNotThrow(() => checkTensors(tensors, 3));
    });
  }
});
