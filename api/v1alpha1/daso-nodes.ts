// Which DASO node a replica belongs to. The operator places a node's replicas on one
// Kubernetes node and the worker builds its rings from the same answer, so both read it here.
// Replicas n·P … n·P + P − 1 form node n, as heat's DASO groups MPI ranks (local rank =
// rank mod P, heat/optim/dp_optimizer.py lines 197–203).

/** DasoPlace is a replica's node and its rank inside that node. */
export interface DasoPlace {
  node: number;
  localRank: number;
}

/** dasoPlace is where replica `replica` sits when nodes hold `replicasPerNode` replicas each. */
export function dasoPlace(replica: number, replicasPerNode: number): DasoPlace {
  return { node: Math.floor(replica / replicasPerNode), localRank: replica % replicasPerNode };
}
