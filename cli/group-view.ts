// What the local runner knows about one layer group, folded from its log events. Pure, so
// the progress display and the summary can be tested without starting a worker.
import type { WorkerEvent } from './worker-events.js';

export type GroupPhase = 'starting' | 'training' | 'finished' | 'restarting' | 'failed';

export interface GroupView {
  group: number;
  /** Which of the group's data-parallel replicas; undefined when it has one. */
  replica: number | undefined;
  /** Network indices of the layers this group trains. */
  layers: number[];
  chapters: number;
  phase: GroupPhase;
  /** The chapter in progress or last finished, 0-based; -1 before the first. */
  chapter: number;
  step: number;
  steps: number;
  loss: number | undefined;
  samplesPerSecond: number;
  testAccuracy: number | undefined;
  /** Seconds spent in chapters, from the workers' "chapter done" lines, across restarts. */
  trainSeconds: number;
  restarts: number;
  /** The backend the worker said it runs on, and why; undefined until it says. */
  backend: { name: string; reason: string } | undefined;
}

export function newGroupView(group: number, layers: number[], chapters: number, replica?: number): GroupView {
  return {
    group,
    replica,
    layers,
    chapters,
    phase: 'starting',
    chapter: -1,
    step: 0,
    steps: 0,
    loss: undefined,
    samplesPerSecond: 0,
    testAccuracy: undefined,
    trainSeconds: 0,
    restarts: 0,
    backend: undefined,
  };
}

/** How the runner names a worker to a person: `group 1`, or `group 1 replica 0` when groups have replicas. */
export function workerLabel(view: { group: number; replica?: number | undefined }): string {
  return view.replica === undefined ? `group ${view.group}` : `group ${view.group} replica ${view.replica}`;
}

/** applyEvent returns the view after one worker event. */
export function applyEvent(view: GroupView, event: WorkerEvent): GroupView {
  switch (event.kind) {
    case 'progress':
      return {
        ...view,
        phase: 'training',
        chapter: event.chapter,
        step: event.step,
        steps: event.steps,
        loss: event.loss ?? view.loss,
        samplesPerSecond: event.samplesPerSecond,
      };
    case 'chapterDone': {
      const finished = event.chapter === view.chapters - 1;
      return {
        ...view,
        chapter: event.chapter,
        step: view.steps,
        trainSeconds: view.trainSeconds + event.seconds,
        phase: finished ? 'finished' : view.phase,
      };
    }
    case 'testAccuracy':
      return { ...view, testAccuracy: event.testAccuracy };
    case 'modelWritten':
      return { ...view, phase: 'finished', testAccuracy: event.testAccuracy ?? view.testAccuracy };
    case 'resumed':
      // The checkpoint's chapter is complete: show it full until the next one starts.
      return { ...view, chapter: event.chapter, step: 1, steps: 1, phase: event.chapter === view.chapters - 1 ? 'finished' : view.phase };
    case 'finished':
      return { ...view, phase: 'finished' };
    case 'backend':
      return { ...view, backend: { name: event.backend, reason: event.reason } };
    default:
      // Errors and skipped checkpoints are notes (display.ts), not state.
      return view;
  }
}
