// The worker processes of a local run: one per replica of every layer group, numbered group
// by group (worker g·R + r is replica r of group g), and who feeds whom among them.
import { finalGroup, groupLayers, peerGroups, type ForwardForwardJobSpec } from '../api/v1alpha1/index.js';

export interface LocalWorker {
  group: number;
  /** Undefined when groups have one replica: then nothing names replicas. */
  replica: number | undefined;
}

export interface LocalWorkers {
  list: LocalWorker[];
  /** The worker that ends with the model (replica 0 of the final group). */
  final: number;
  /** The worker of the same lane in the upstream and downstream group. */
  upstreamOf(w: number): number | undefined;
  downstreamOf(w: number): number | undefined;
  /** index of replica `replica` of group `group`. */
  index(group: number, replica: number): number;
  /** Its logs' and files' base name: `group-1`, or `group-1-replica-0`. */
  fileName(w: number): string;
}

export function localWorkers(spec: ForwardForwardJobSpec): LocalWorkers {
  const replicas = spec.parallelism.replicasPerGroup;
  const groups = groupLayers(spec).length;
  const list = Array.from({ length: groups * replicas }, (_, w) => ({
    group: Math.floor(w / replicas),
    replica: replicas > 1 ? w % replicas : undefined,
  }));
  const index = (group: number, replica: number): number => group * replicas + replica;
  const lane = (w: number, group: number | undefined): number | undefined => (group === undefined ? undefined : index(group, w % replicas));
  return {
    list,
    final: index(finalGroup(spec), 0),
    upstreamOf: (w) => lane(w, peerGroups(spec, list[w]!.group).upstream),
    downstreamOf: (w) => lane(w, peerGroups(spec, list[w]!.group).downstream),
    index,
    fileName: (w) => {
      const { group, replica } = list[w]!;
      return replica === undefined ? `group-${group}` : `group-${group}-replica-${replica}`;
    },
  };
}
