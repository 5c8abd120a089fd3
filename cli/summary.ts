// The result of a finished local run: a few lines for a person, or one JSON object for a
// script (`--output json`).
import { workerLabel, type GroupView } from './group-view.js';
import { formatPercent, layersLabel } from './render.js';

export interface RunSummary {
  job: string;
  /** Fraction of the test set classified correctly; null when the run never evaluated. */
  testAccuracy: number | null;
  wallSeconds: number;
  modelPath: string;
  groups: {
    group: number;
    /** Present when groups have data-parallel replicas. */
    replica?: number;
    layers: number[];
    trainSeconds: number;
    restarts: number;
    backend: string | null;
    backendReason: string | null;
  }[];
  restarts: number;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** `finalWorker` is the index in `views` of the worker that wrote the model: its last evaluation is the run's accuracy. */
export function buildSummary(
  job: string,
  views: GroupView[],
  wallSeconds: number,
  model: { modelPath: string; finalWorker: number },
): RunSummary {
  const { modelPath, finalWorker } = model;
  return {
    job,
    testAccuracy: views[finalWorker]?.testAccuracy ?? null,
    wallSeconds: round(wallSeconds, 2),
    modelPath,
    groups: views.map((v) => ({
      group: v.group,
      ...(v.replica === undefined ? {} : { replica: v.replica }),
      layers: v.layers,
      trainSeconds: round(v.trainSeconds, 2),
      restarts: v.restarts,
      backend: v.backend?.name ?? null,
      backendReason: v.backend?.reason ?? null,
    })),
    restarts: views.reduce((sum, v) => sum + v.restarts, 0),
  };
}

export function summaryText(s: RunSummary): string {
  const accuracy = s.testAccuracy === null ? 'not evaluated' : formatPercent(s.testAccuracy);
  const lines = [
    `job ${s.job} succeeded`,
    `  test accuracy  ${accuracy}`,
    `  wall time      ${s.wallSeconds.toFixed(1)} s`,
    `  model          ${s.modelPath}`,
    ...s.groups.map((g) => {
      const restarts = g.restarts === 0 ? '' : ` · ${g.restarts} restart${g.restarts === 1 ? '' : 's'}`;
      const backend = g.backend === null ? '' : ` · backend ${g.backend} (${g.backendReason ?? ''})`;
      return `  ${workerLabel(g)}  ${layersLabel(g.layers)} · ${g.trainSeconds.toFixed(1)} s training${restarts}${backend}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
