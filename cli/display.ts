// The local runner's stderr: on a terminal, one progress line per group redrawn in place
// with ANSI escapes; elsewhere (CI logs, pipes) plain lines, one per finished chapter, that
// read well after the fact.
import { workerLabel, type GroupView } from './group-view.js';
import { chapterLine, formatPercent, progressLine } from './render.js';
import type { WorkerEvent } from './worker-events.js';

export interface DisplayStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 100;
const UP = (n: number): string => `\x1b[${n}A`;
const CLEAR_BELOW = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** eventNote is the line an event deserves on its own, or undefined; `live` is a terminal display. */
export function eventNote(view: GroupView, event: WorkerEvent, live: boolean): string | undefined {
  switch (event.kind) {
    case 'resumed':
      return `${workerLabel(view)} resumed from checkpoint (chapter ${event.chapter + 1}/${view.chapters} done)`;
    case 'rejoined':
      return `${workerLabel(view)} rejoined its group from replica ${event.fromReplica} at step ${event.step} (chapter ${event.chapter + 1}/${view.chapters})`;
    case 'error':
      return `${workerLabel(view)}: ${event.message}`;
    case 'skippedCheckpoint':
      return `${workerLabel(view)} skipped unusable checkpoint ${event.path}: ${event.reason}`;
    case 'chapterDone':
      return live ? undefined : chapterLine(view, event.chapter, event.seconds);
    case 'testAccuracy':
      return live
        ? undefined
        : `${workerLabel(view)} · test accuracy ${formatPercent(event.testAccuracy)} after chapter ${event.chapter + 1}/${view.chapters}`;
    default:
      return undefined;
  }
}

export class ProgressDisplay {
  readonly live: boolean;
  private drawn = 0;
  private views: GroupView[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly stream: DisplayStream) {
    this.live = stream.isTTY === true;
    if (this.live) stream.write(HIDE_CURSOR);
  }

  /** show schedules a redraw with the groups' latest state (at most every REDRAW_MS). */
  show(views: GroupView[]): void {
    this.views = views;
    if (!this.live || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.redraw('');
    }, REDRAW_MS);
  }

  /** note prints a line above the progress lines (or on its own when not on a terminal). */
  note(line: string): void {
    if (this.live) this.redraw(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  /** close draws the final state and gives the cursor back. */
  close(): void {
    if (!this.live) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.redraw('');
    this.stream.write(SHOW_CURSOR);
  }

  private redraw(before: string): void {
    // A pseudo-terminal without a size (script, some CI runners) reports 0 columns.
    const columns = this.stream.columns !== undefined && this.stream.columns > 0 ? this.stream.columns : 120;
    const width = Math.max(20, columns - 1);
    const lines = this.views.map((v) => progressLine(v).slice(0, width));
    const rewind = this.drawn > 0 ? `${UP(this.drawn)}\r${CLEAR_BELOW}` : '';
    this.stream.write(rewind + before + lines.map((l) => `${l}\n`).join(''));
    this.drawn = lines.length;
  }
}
