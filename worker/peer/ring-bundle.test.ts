// What a ring receiver (rotating, federated) accepts: a bundle holding exactly one known
// layer's state, every tensor of it at the right shape and nothing else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createAssembler, type ExpectedTensor } from './assembler.js';
import { bundleFrames } from './frames.js';
import { DEFAULT_LIMITS } from './limits.js';
import { Refusal } from './refusal.js';
import type { NamedTensor, WeightBundle } from './weight-bundle.js';

const state = (unit: string, rows: number): ExpectedTensor[] => [
  { name: `${unit}/w`, shape: [rows, 3] },
  { name: `${unit}/w/m`, shape: [rows, 3] },
  { name: `${unit}/b`, shape: [3] },
  { name: `${unit}/steps`, shape: [1] },
];
const UNITS = [state('layer0', 4), state('layer1', 3), state('head', 6)];

const tensors = (expected: ExpectedTensor[]): NamedTensor[] =>
  expected.map(({ name, shape }) => ({ name, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) }));

function receive(sent: NamedTensor[]): WeightBundle {
  const assembler = createAssembler(DEFAULT_LIMITS, { job: 'j', fromGroup: 1, chapters: 4, units: UNITS });
  const bundle: WeightBundle = { job: 'j', fromGroup: 1, chapter: 2, tensors: sent };
  for (const frame of bundleFrames(bundle, 1024)()) assembler.accept(frame);
  return assembler.finish();
}

function refusal(sent: NamedTensor[]): Refusal {
  try {
    receive(sent);
  } catch (error) {
    assert.ok(error instanceof Refusal, String(error));
    assert.equal(status[error.code], 'INVALID_ARGUMENT');
    return error;
  }
  assert.fail('the bundle should have been refused');
}

void describe('ring bundles', () => {
  void it('accepts one whole layer state, and the readout', () => {
    assert.deepEqual(
      receive(tensors(state('layer1', 3))).tensors.map((t) => t.name),
      ['layer1/w', 'layer1/w/m', 'layer1/b', 'layer1/steps'],
    );
    assert.equal(receive(tensors(state('head', 6))).chapter, 2);
  });

  void it('refuses two layers in one bundle, naming them', () => {
    assert.match(
      refusal(tensors([...state('layer0', 4), ...state('layer1', 3)])).message,
      /header\.tensors: hold tensors of layer0, layer1; a ring bundle carries one layer/,
    );
  });

  void it('refuses a layer the job does not have', () => {
    assert.match(
      refusal(tensors(state('layer7', 3))).message,
      /header\.tensors: "layer7" is not a layer of this job \(layer0, layer1, head\)/,
    );
  });

  void it('refuses a layer state missing a tensor, shaped otherwise, or with a stray tensor', () => {
    assert.match(refusal(tensors(state('layer0', 4).slice(1))).message, /header\.tensors: no tensor "layer0\/w"/);
    assert.match(
      refusal(tensors(state('layer0', 5))).message,
      /header\.tensors\[0\]\.shape: \[5, 3\] for "layer0\/w", but this worker's layer has \[4, 3\]/,
    );
    assert.match(
      refusal(tensors([...state('layer0', 4), { name: 'layer0/x', shape: [1] }])).message,
      /header\.tensors\[4\]\.name: "layer0\/x" is not part of layer0's state/,
    );
  });
});
