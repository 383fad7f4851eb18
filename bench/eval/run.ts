// `npm run eval`: AP and recall on crowd-dev, upright recall on faces-dev, CPU and model floor per 1080p
// image, for each named model through this pipeline and for InsightFace's own ways of running SCRFD.
// Flags: --quick (every 4th crowd photo; printed, not written), --only=id,id (those rows alone: yunet_n,
// yunet_s, scrfd_500m, scrfd_2.5g, one-pass-500m, one-pass-2.5g, tiling-2.5g; printed, not written).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../shared/config/config.js';
import type { Candidate } from './candidate.js';
import { loadCrowd, loadFacesDev } from './datasets.js';
import { evaluate, type RowResult } from './evaluate.js';
import { PIPELINE_AP_FLOOR, PipelineCandidate } from './pipeline-candidate.js';
import { ScrfdBaseline } from './scrfd-baseline.js';
import { headerLine, markdownTable, writeEvalBlock, type EvalReport, type Skipped } from './table.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const SHARED = path.resolve(ROOT, '..', 'shared');
const PIPELINE_MODELS = ['yunet_n', 'yunet_s', 'scrfd_500m', 'scrfd_2.5g'] as const;
const BASELINES = [
  { id: 'one-pass-500m', label: 'InsightFace one 640 pass, scrfd_500m', model: 'scrfd_500m', tiled: false },
  { id: 'one-pass-2.5g', label: 'InsightFace one 640 pass, scrfd_2.5g', model: 'scrfd_2.5g', tiled: false },
  {
    id: 'tiling-2.5g',
    label: 'crude tiling (640 + tiles at 1× and 2×), scrfd_2.5g',
    model: 'scrfd_2.5g',
    tiled: true,
  },
] as const;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (id: string) => !only || only.includes(id);

function configOf(model: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    MODEL_NAME: model,
    MODELS_DIR: path.join(ROOT, 'models'),
    SHARED_DIR: SHARED,
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

/** The rows to run, each made only when asked for, or why one cannot run. */
function plan(): { id: string; label: string; file: string; make: () => Promise<Candidate> }[] {
  const rows = PIPELINE_MODELS.map((model) => {
    const standard = configOf(model);
    const low = configOf(model, { SCORE_THRESHOLD: String(PIPELINE_AP_FLOOR) });
    const label = `pipeline, ${model}`;
    return {
      id: model,
      label,
      file: standard.detector.modelPath,
      make: () => PipelineCandidate.start(label, low, standard),
    };
  });
  const baselines = BASELINES.map(({ id, label, model, tiled }) => {
    const file = configOf(model).detector.modelPath;
    return { id: id, label, file, make: () => ScrfdBaseline.load(label, file, tiled) };
  });
  return [...rows, ...baselines].filter((r) => wanted(r.id));
}

async function main(): Promise<void> {
  const started = performance.now();
  const crowd = await loadCrowd(SHARED, quick ? 4 : 1);
  const faces = await loadFacesDev(SHARED);
  const photo = await readFile(path.join(SHARED, 'fixtures', 'images', 'obama-1080p.jpg'));
  const rows: RowResult[] = [];
  const skipped: Skipped[] = [];
  for (const row of plan()) {
    if (!existsSync(row.file)) {
      skipped.push({ label: row.label, why: `model file ${row.file} is absent.` });
      process.stderr.write(`skipping ${row.label}: ${row.file} is absent\n`);
      continue;
    }
    const candidate = await row.make();
    try {
      rows.push(await evaluate(candidate, { crowd, faces }, photo));
    } finally {
      await candidate.close();
    }
  }
  const report: EvalReport = {
    date: new Date().toISOString(),
    durationS: (performance.now() - started) / 1000,
    quick,
    crowdImages: crowd.images.length,
    machine: `${os.availableParallelism()}× ${os.cpus()[0]?.model ?? 'CPU'}, load ${os.loadavg()[0]!.toFixed(1)}`,
    rows,
    skipped,
  };
  console.log(`${headerLine(report)}\n\n${markdownTable(report)}`);
  if (!quick && !only) await writeEvalBlock(path.join(ROOT, 'BENCHMARKS.md'), report);
}

await main();
