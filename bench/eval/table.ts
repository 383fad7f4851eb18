import { readFile, writeFile } from 'node:fs/promises';
import * as prettier from 'prettier';
import type { RowResult } from './evaluate.js';
import { SIZE_BINS } from './scoring.js';

export interface Skipped {
  label: string;
  why: string;
}

export interface EvalReport {
  date: string;
  durationS: number;
  quick: boolean;
  crowdImages: number;
  machine: string;
  rows: RowResult[];
  skipped: Skipped[];
}

const BEGIN = '<!-- eval:start (written by npm run eval; edit outside these markers) -->';
const END = '<!-- eval:end -->';

const binName = (i: number) =>
  i === SIZE_BINS.length - 1
    ? `≥${SIZE_BINS[i]}`
    : i === 0
      ? `<${SIZE_BINS[1]}`
      : `${SIZE_BINS[i]}–${SIZE_BINS[i + 1]}`;
const fixed = (v: number | undefined, digits = 3) => (v === undefined ? '—' : v.toFixed(digits));
const ms = (v: number | undefined) => (v === undefined ? '—' : String(Math.round(v)));

export function markdownTable(report: EvalReport): string {
  const head = [
    'setup',
    'AP@0.5',
    'recall (at thr.)',
    ...SIZE_BINS.map((_, i) => `${binName(i)} px`),
    'faces-dev recall',
    'CPU ms off / on',
    'floor ms off / on',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of report.rows) {
    const cells = [
      `${r.label} (${r.note})`,
      fixed(r.ap),
      `${fixed(r.recall)} (${r.recallThreshold})`,
      ...r.recallBySize.map((v) => fixed(v, 2)),
      fixed(r.uprightRecall, 2),
      `${ms(r.off.cpuMs)} / ${ms(r.on?.cpuMs)}`,
      `${ms(r.off.floorMs)} / ${ms(r.on?.floorMs)}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const bins = report.rows[0]?.facesInBin;
  if (bins)
    lines.push(
      '',
      `Faces per size bin on crowd-dev: ${bins.map((n, i) => `${binName(i)} px ${n}`).join(', ')}.`,
    );
  for (const s of report.skipped) lines.push('', `Skipped ${s.label}: ${s.why}`);
  return lines.join('\n');
}

export function headerLine(report: EvalReport): string {
  const scope = report.quick
    ? `--quick: every 4th photo, ${report.crowdImages} of crowd-dev`
    : `all ${report.crowdImages} photos of crowd-dev`;
  return `Measured ${report.date.slice(0, 16).replace('T', ' ')} UTC in ${Math.round(report.durationS)} s (${scope}) on: ${report.machine}.`;
}

/** Replaces the generated block of BENCHMARKS.md (appending one if absent), leaving the rest alone. */
export async function writeEvalBlock(file: string, report: EvalReport): Promise<void> {
  const block = [BEGIN, '', headerLine(report), '', markdownTable(report), '', END].join('\n');
  const current = await readFile(file, 'utf8');
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const text =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n## Accuracy and speed per detector\n\n${block}\n`;
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(text, { ...options, filepath: file }));
}
