import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { median } from '../stats.js';
import type { Candidate } from './candidate.js';
import type { Dataset } from './datasets.js';
import { addToBins, averagePrecision, emptyBins, matchImage, type Scored } from './scoring.js';

interface Speed {
  /** Process CPU ms (all threads) per image, median of rounds. */
  cpuMs: number;
  /** session.run ms per image, summed over the image's runs, median of rounds. */
  floorMs: number;
}

export interface RowResult {
  label: string;
  note: string;
  ap: number;
  recallThreshold: number;
  recall: number;
  recallBySize: (number | undefined)[];
  facesInBin: number[];
  uprightRecall: number;
  off: Speed;
  /** Undefined for a candidate that never turns the picture. */
  on?: Speed;
}

/** Timed images per speed figure, after one warm-up. */
const SPEED_RUNS = 5;

const log = (line: string) => process.stderr.write(`${line}\n`);

async function crowdFigures(candidate: Candidate, crowd: Dataset) {
  const scored: Scored[] = [];
  const bins = emptyBins();
  let total = 0;
  for (const [i, image] of crowd.images.entries()) {
    const detections = await candidate.detectAll(await readFile(path.join(crowd.dir, image.file)));
    const match = matchImage(detections, image);
    scored.push(...match.scored);
    addToBins(bins, image, match, candidate.recallThreshold);
    total += image.faces.length;
    if ((i + 1) % 10 === 0 || i + 1 === crowd.images.length)
      log(`  ${candidate.label}: crowd ${i + 1}/${crowd.images.length}`);
  }
  const found = bins.found.reduce((a, b) => a + b, 0);
  return {
    ap: averagePrecision(scored, total),
    recall: total > 0 ? found / total : 0,
    recallBySize: bins.total.map((t, i) => (t > 0 ? bins.found[i]! / t : undefined)),
    facesInBin: bins.total,
  };
}

async function uprightRecall(candidate: Candidate, faces: Dataset): Promise<number> {
  let found = 0;
  let total = 0;
  for (const image of faces.images) {
    const detections = await candidate.detectDefault(await readFile(path.join(faces.dir, image.file)), true);
    found += matchImage(detections, image).matchedScore.filter((s) => s !== undefined).length;
    total += image.faces.length;
  }
  return total > 0 ? found / total : 0;
}

async function speed(candidate: Candidate, photo: Buffer, autoRotate: boolean): Promise<Speed> {
  await candidate.detectDefault(photo, autoRotate);
  const cpu: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < SPEED_RUNS; i++) {
    const before = process.cpuUsage();
    await candidate.detectDefault(photo, autoRotate);
    const { user, system } = process.cpuUsage(before);
    cpu.push((user + system) / 1000);
    floor.push(candidate.lastRunMs());
  }
  return { cpuMs: median(cpu), floorMs: median(floor) };
}

/** Every figure of one row; the candidate is left open (the caller closes it). */
export async function evaluate(
  candidate: Candidate,
  sets: { crowd: Dataset; faces: Dataset },
  photo: Buffer,
): Promise<RowResult> {
  log(`${candidate.label}: ${candidate.autoRotateNote}`);
  const crowd = await crowdFigures(candidate, sets.crowd);
  const upright = await uprightRecall(candidate, sets.faces);
  const off = await speed(candidate, photo, false);
  const on = candidate.rotates ? await speed(candidate, photo, true) : undefined;
  return {
    label: candidate.label,
    note: candidate.autoRotateNote,
    ...crowd,
    recallThreshold: candidate.recallThreshold,
    uprightRecall: upright,
    off,
    on,
  };
}
