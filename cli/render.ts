// Text for the progress display and the summary. Pure functions of a GroupView, so the
// exact output is tested without a terminal.
import { workerLabel, type GroupView } from './group-view.js';

const BAR_WIDTH = 10;

/** "layers 2" or "layers 0-3": network indices, as the workers' logs name them. */
export function layersLabel(layers: number[]): string {
  if (layers.length === 0) return 'layers none';
  const first = layers[0]!;
  const last = layers[layers.length - 1]!;
  return first === last ? `layers ${first}` : `layers ${first}-${last}`;
}

/** 850, 9.8k, 12k, 1.3M: a rate at a glance. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e4) return `${Math.round(perSecond / 1e3)}k`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return `${Math.round(perSecond)}`;
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

export function bar(fraction: number, width: number = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function chapterFraction(view: GroupView): number {
  return view.steps > 0 ? view.step / view.steps : 0;
}

function statusTail(view: GroupView): string[] {
  const parts: string[] = [];
  if (view.loss !== undefined) parts.push(`loss ${view.loss.toFixed(2)}`);
  if (view.phase === 'training' && view.samplesPerSecond > 0) parts.push(`${formatRate(view.samplesPerSecond)} samples/s`);
  if (view.testAccuracy !== undefined) parts.push(`test ${formatPercent(view.testAccuracy)}`);
  if (view.phase === 'finished') parts.push('done');
  if (view.phase === 'restarting') parts.push('restarting');
  if (view.phase === 'failed') parts.push('failed');
  if (view.restarts > 0) parts.push(`${view.restarts} restart${view.restarts === 1 ? '' : 's'}`);
  return parts;
}

/** progressLine is one group's line of the live display, e.g.
 * `group 1 · layers 1 · chapter 3/10 ██████░░░░ 62% · loss 0.41 · 9.8k samples/s`. */
export function progressLine(view: GroupView): string {
  const head = `${workerLabel(view)} · ${layersLabel(view.layers)}`;
  if (view.chapter < 0 && view.phase === 'starting') return `${head} · starting…`;
  const shown = Math.max(view.chapter, 0);
  const fraction = chapterFraction(view);
  const chapter = `chapter ${shown + 1}/${view.chapters} ${bar(fraction)} ${Math.round(fraction * 100)}%`;
  return [head, chapter, ...statusTail(view)].join(' · ');
}

/** chapterLine is the plain (non-terminal) report of a finished chapter. */
export function chapterLine(view: GroupView, chapter: number, seconds: number): string {
  const parts = [
    `${workerLabel(view)} · ${layersLabel(view.layers)} · chapter ${chapter + 1}/${view.chapters} done in ${seconds.toFixed(1)} s`,
  ];
  if (view.loss !== undefined) parts.push(`loss ${view.loss.toFixed(2)}`);
  if (view.samplesPerSecond > 0) parts.push(`${formatRate(view.samplesPerSecond)} samples/s`);
  return parts.join(' · ');
}
