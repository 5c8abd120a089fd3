// The worker snapshot GetStatus serves, in the repository's string-union style; the proto
// enum stays at the wire.
import { WorkerPhase, type GetStatusResponse } from '../../proto/gen/ff/v1/layer_exchange.js';

export const PEER_PHASES = ['starting', 'waiting', 'training', 'publishing', 'succeeded', 'failed'] as const;
export type PeerPhase = (typeof PEER_PHASES)[number];

export interface PeerStatus {
  group: number;
  phase: PeerPhase;
  chapter: number;
  /** latestChapterReceived is undefined until the first bundle arrives. */
  latestChapterReceived?: number | undefined;
}

const TO_WIRE: Record<PeerPhase, WorkerPhase> = {
  starting: WorkerPhase.WORKER_PHASE_STARTING,
  waiting: WorkerPhase.WORKER_PHASE_WAITING,
  training: WorkerPhase.WORKER_PHASE_TRAINING,
  publishing: WorkerPhase.WORKER_PHASE_PUBLISHING,
  succeeded: WorkerPhase.WORKER_PHASE_SUCCEEDED,
  failed: WorkerPhase.WORKER_PHASE_FAILED,
};

export function toStatusResponse(snapshot: PeerStatus): GetStatusResponse {
  return {
    group: snapshot.group,
    phase: TO_WIRE[snapshot.phase],
    chapter: snapshot.chapter,
    latestChapterReceived: snapshot.latestChapterReceived,
  };
}

/** fromStatusResponse returns undefined for a phase this build does not know (a newer peer). */
export function fromStatusResponse(response: GetStatusResponse): PeerStatus | undefined {
  const phase = PEER_PHASES.find((name) => TO_WIRE[name] === response.phase);
  if (!phase) return undefined;
  return {
    group: response.group,
    phase,
    chapter: response.chapter,
    latestChapterReceived: response.latestChapterReceived,
  };
}
