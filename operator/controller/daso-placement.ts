// Where DASO's replicas run. DASO averages the replicasPerNode replicas of a node every
// step, blocking, and crosses machines only now and then: the saving holds only if a
// node's replicas share one host. So each pod carries its DASO node as a label, and a
// required pod affinity on kubernetes.io/hostname binds it to the pods of the same job,
// group and node. The scheduler lets the first of them go anywhere (a pod that matches its
// own affinity term may land where nothing matches yet) and puts the rest beside it; a
// restarted replica returns to that host, and waits Pending (with the scheduler's reason
// in its events) if the host has no room left, rather than silently syncing across machines.
import type { V1Affinity } from '@kubernetes/client-node';
import { dasoNode, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { DASO_NODE_LABEL, GROUP_LABEL, JOB_NAME_LABEL } from './labels.js';

/** HOSTNAME_TOPOLOGY is the well-known node label one Kubernetes node has alone. */
export const HOSTNAME_TOPOLOGY = 'kubernetes.io/hostname';

/** Placement is what a pod's DASO node adds to it: a label and, when the node has company, an affinity. */
export interface Placement {
  labels: Record<string, string>;
  affinity?: V1Affinity;
}

/** dasoPlacement is the label and affinity of the pod of `group`'s `replica`; nothing outside DASO. */
export function dasoPlacement(job: ForwardForwardJob, slot: { group: number; replica: number }): Placement {
  const node = dasoNode(job.spec, slot.replica);
  if (node === undefined) return { labels: {} };
  const labels = { [DASO_NODE_LABEL]: String(node) };
  // A node of one replica has no one to sit beside.
  if (job.spec.parallelism.sync.daso.replicasPerNode === 1) return { labels };
  const selector = { [JOB_NAME_LABEL]: job.metadata.name ?? '', [GROUP_LABEL]: String(slot.group), ...labels };
  return {
    labels,
    affinity: {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: selector }, topologyKey: HOSTNAME_TOPOLOGY }],
      },
    },
  };
}
