// Where every benchmark leaves its figures: bench/results/NAME-YYYY-MM-DD.json (a run on the same
// day replaces that day's file).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../test/helpers/paths';

export const today = () => new Date().toISOString().slice(0, 10);

export const machine = () => `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`;

export const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Writes `figures` as bench/results/NAME-DATE.json; returns the path relative to the repository. */
export function writeResults(name: string, figures: Record<string, unknown>): string {
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${today()}.json`);
  writeFileSync(file, JSON.stringify({ date: today(), ...figures }, null, 2) + '\n');
  return path.relative(REPO_ROOT, file);
}
