// AP@0.5 on ../shared/fixtures/crowd-dev as WIDER FACE scores it (hard protocol: `faces` are scored, a
// detection on an `ignore` box counts neither way), through the in-process pipeline of a built checkout.
// Usage: node scripts/crowd-ap.mjs [checkout=.] [--rotate=0|90|180|270] [--auto-rotate=true|false]
// Writes one JSON line: AP, recall at the service's default threshold, and per-image counts.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

const args = process.argv.slice(2);
const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const root = path.resolve(args.find((a) => !a.startsWith('--')) ?? '.');
const turn = Number(flag('rotate', '0'));
const autoRotate = flag('auto-rotate', 'true') === 'true';
const crowd = path.resolve(root, '../shared/fixtures/crowd-dev');
const from = (file) => import(pathToFileURL(path.join(root, 'dist', file)).href);

const { loadConfig } = await from('shared/config/config.js');
const { InProcessPipeline } = await from('bench/inprocess.js');
// Scores down to 0.05 make the precision-recall curve; recall is also read at the default 0.6.
const config = loadConfig({
  MODELS_DIR: path.join(root, 'models'),
  LOG_LEVEL: 'silent',
  SCORE_THRESHOLD: '0.05',
});
const pipeline = await InProcessPipeline.start(config);
const gt = JSON.parse(await readFile(path.join(crowd, 'gt.json'), 'utf8'));

const iou = (a, b) => {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
};

/** A box found in the turned picture, back in the upright picture's pixels. */
function unturn([x, y, w, h], width, height) {
  if (turn === 90) return [y, height - x - w, h, w];
  if (turn === 180) return [width - x - w, height - y - h, w, h];
  if (turn === 270) return [width - y - h, x, h, w];
  return [x, y, w, h];
}

const scored = [];
let total = 0;
let foundAtDefault = 0;
const perImage = [];
for (const image of gt.images) {
  const bytes = await sharp(await readFile(path.join(crowd, image.file)))
    .rotate(turn)
    .jpeg({ quality: 95 })
    .toBuffer();
  const { faces } = await pipeline.detector.detectEncoded(bytes, { autoRotate });
  const dets = faces
    .map((f) => ({ box: unturn([f.x, f.y, f.w, f.h], image.width, image.height), score: f.score }))
    .sort((a, b) => b.score - a.score);
  const taken = new Set();
  let hits = 0;
  for (const det of dets) {
    let best = -1;
    let bestIou = 0.5;
    image.faces.forEach((g, i) => {
      const o = iou(det.box, g);
      if (!taken.has(i) && o >= bestIou) [best, bestIou] = [i, o];
    });
    if (best >= 0) {
      taken.add(best);
      scored.push({ score: det.score, tp: true });
      if (det.score >= 0.6) hits += 1;
    } else if (!image.ignore.some((g) => iou(det.box, g) >= 0.5)) {
      scored.push({ score: det.score, tp: false });
    }
  }
  total += image.faces.length;
  foundAtDefault += hits;
  perImage.push({ file: image.file, faces: image.faces.length, foundAtDefault: hits });
}
await pipeline.close();

// All-points interpolated AP over the pooled, score-sorted detections.
scored.sort((a, b) => b.score - a.score);
let tp = 0;
const points = scored.map((d, i) => {
  if (d.tp) tp += 1;
  return { recall: tp / total, precision: tp / (i + 1) };
});
for (let i = points.length - 2; i >= 0; i--)
  points[i].precision = Math.max(points[i].precision, points[i + 1].precision);
let ap = 0;
let previousRecall = 0;
for (const point of points) {
  ap += (point.recall - previousRecall) * point.precision;
  previousRecall = point.recall;
}
console.log(
  JSON.stringify({
    turn,
    autoRotate,
    ap: +ap.toFixed(4),
    recallAtDefault: +(foundAtDefault / total).toFixed(4),
    total,
    perImage,
  }),
);
