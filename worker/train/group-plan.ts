// What one worker of a pipeline job does: which layers it trains, which it only runs forward
// (received from the group before it), and whether it holds the readout.
import { groupLayers, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';

export interface GroupPlan {
  group: number;
  groups: number;
  /** Network indices of the layers this group trains. */
  layers: number[];
  /** Network indices of the layers below, frozen here, refreshed from the previous group. */
  upstreamLayers: number[];
  isFirst: boolean;
  /** The last group evaluates on the test set and writes the model. */
  isLast: boolean;
}

/** groupPlan is group `group`'s part of the split the operator and local runner also report (groupLayers). */
export function groupPlan(spec: ForwardForwardJobSpec, group: number): GroupPlan {
  const groups = groupLayers(spec);
  const layers = groups[group];
  if (layers === undefined) {
    throw new Error(`group ${group} does not exist: the job has ${groups.length} groups (spec.parallelism.workers)`);
  }
  return {
    group,
    groups: groups.length,
    layers,
    upstreamLayers: Array.from({ length: layers[0]! }, (_, i) => i),
    isFirst: group === 0,
    isLast: group === groups.length - 1,
  };
}
