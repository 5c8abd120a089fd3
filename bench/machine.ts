// Every benchmark prints the machine it ran on: these machines are shared, and the load
// average says whether other work moved the numbers.
import os from 'node:os';
import { initBackend, type BackendChoice } from '../worker/ff/backend.js';

export function machineLine(): string {
  const load = os.loadavg()[0]?.toFixed(1) ?? '?';
  return `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load ${load}`;
}

/**
 * backendLine starts `choice` here as a worker would (same machine, same packages), so a table
 * of training runs says in its header which backend ran them; runLocal checks the workers agree.
 */
export async function backendLine(choice: BackendChoice = 'auto'): Promise<string> {
  const started = await initBackend(choice);
  const why = started.skipped.length === 0 ? `${choice === 'auto' ? 'auto: ' : ''}the first that started` : `skipped ${started.skipped.join('; ')}`;
  benchBackend = started.name;
  return `backend: ${started.name} (${why})`;
}

/** The backend backendLine printed, which every run of the table must have used. */
export let benchBackend: string | undefined;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Prints rows as an aligned text table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c]?.length ?? 0)));
  for (const row of cells) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
}
