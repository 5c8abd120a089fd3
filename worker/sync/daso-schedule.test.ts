import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import { DasoSchedule, type DasoConfig } from './daso-schedule.js';

const DEFAULTS: DasoConfig = defaultSpec({ model: { layers: [8] } }).parallelism.sync.daso;
const flat = (): number => 1;
const halving = (epoch: number): number => 0.5 ** epoch;

// want: each epoch's globalSkip/batchesToWait, '-' for a blocking epoch (0/0).
void test("DasoSchedule: warm-up and cool-down block; in between plateaus shrink the skips and reset them at 1, as heat's epoch_loss_logic", () => {
  const cases: {
    name: string;
    config?: Partial<DasoConfig>;
    epochs: number;
    from?: number;
    loss: (epoch: number) => number;
    want: string;
  }[] = [
    {
      name: "heat's defaults on a flat loss: 4/1, halved every third epoch down to 1, reset to 8/2, cool-down",
      epochs: 20,
      loss: flat,
      want: '- - - - 4/1 4/1 4/1 2/1 2/1 2/1 1/1 1/1 1/1 8/2 8/2 8/2 - - - -',
    },
    { name: 'an improving loss keeps the start values', epochs: 12, loss: halving, want: '- - - - 4/1 4/1 4/1 4/1 - - - -' },
    {
      name: 'plateau patience 0 after a warm-up of 1',
      config: { warmupEpochs: 1, cooldownEpochs: 1, plateau: { threshold: 0.05, patience: 0 } },
      epochs: 8,
      loss: flat,
      want: '- 4/1 2/1 1/1 8/2 4/1 2/1 -',
    },
    {
      name: 'no warm-up: the first epoch already cycles (heat would block for good)',
      config: { warmupEpochs: 0, cooldownEpochs: 0 },
      epochs: 6,
      loss: flat,
      want: '4/1 4/1 4/1 4/1 2/1 2/1',
    },
    {
      name: 'a reduction factor above the skip stops at 1 (heat would reach 0 and block for good)',
      config: { warmupEpochs: 0, cooldownEpochs: 0, skipReductionFactor: 8, plateau: { threshold: 0.05, patience: 0 } },
      epochs: 4,
      loss: flat,
      want: '4/1 4/1 1/1 8/2',
    },
    {
      name: 'S falls by one and never above the skip',
      config: { warmupEpochs: 0, cooldownEpochs: 0, batchesToWait: 4, plateau: { threshold: 0.05, patience: 0 } },
      epochs: 4,
      loss: flat,
      want: '4/4 4/4 2/2 1/1',
    },
    {
      name: 'a blocking S stays blocking',
      config: { warmupEpochs: 0, cooldownEpochs: 0, batchesToWait: 0, maxBatchesToWait: 0, plateau: { threshold: 0.05, patience: 0 } },
      epochs: 5,
      loss: flat,
      want: '4/0 4/0 2/0 1/0 8/0',
    },
    { name: 'warm-up and cool-down cover every epoch', epochs: 7, loss: halving, want: '- - - - - - -' },
    {
      name: 'resumed in epoch 6 of 14: blocking until its end, then cycling from the start values',
      epochs: 14,
      from: 6,
      loss: halving,
      want: '- 4/1 4/1 4/1 - - - -',
    },
  ];
  for (const c of cases) {
    const schedule = new DasoSchedule({ ...DEFAULTS, ...c.config }, c.epochs);
    const seen = [schedule.current];
    for (let epoch = c.from ?? 0; epoch < c.epochs - 1; epoch++) seen.push(schedule.endEpoch(epoch, c.loss(epoch)));
    const got = seen.map((s) => (s.globalSkip === 0 ? '-' : `${s.globalSkip}/${s.batchesToWait}`)).join(' ');
    assert.equal(got, c.want, c.name);
  }
});
