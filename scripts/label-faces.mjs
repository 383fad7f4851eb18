#!/usr/bin/env node
// Dev tool for hand-checked face labels (test/fixtures/rotation-dev): the project's own detector proposes
// boxes on upright pictures at a low threshold, a person corrects them, and pictures with the boxes drawn
// on are what that person looks at. Needs `npm run build && npm run models` first.
//
//   node scripts/label-faces.mjs detect <imagesDir> <draft.json> [minConfidence=0.3]
//   node scripts/label-faces.mjs draw <labels.json> <imagesDir> <reviewDir>
//   node scripts/label-faces.mjs stats <labels.json>
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

const IMAGE = /\.(jpe?g|png)$/i;
// Bounds on what this tool reads, so a stray folder or file cannot make it run away.
const MAX_IMAGES = 500;
const MAX_FACES = 1000;

async function listImages(dir) {
  const files = (await readdir(dir)).filter((f) => IMAGE.test(f)).sort();
  if (files.length > MAX_IMAGES) throw new Error(`${dir}: ${files.length} images, at most ${MAX_IMAGES}`);
  return files;
}

async function readLabels(file) {
  const labels = JSON.parse(await readFile(file, 'utf8'));
  if (!Array.isArray(labels.images) || labels.images.length > MAX_IMAGES)
    throw new Error(`${file}: "images" must be a list of at most ${MAX_IMAGES}`);
  return labels;
}

async function startDetector() {
  const dist = new URL('../dist/', import.meta.url);
  const load = (p) => import(new URL(p, dist).href);
  const [
    { loadConfig },
    { InferencePool },
    { YUNET_THREAD_URL },
    { ImageDecoder },
    { FaceDetectionService },
  ] = await Promise.all([
    load('shared/config/config.js'),
    load('worker/inference/inference-pool.js'),
    load('worker/yunet/yunet-thread-url.js'),
    load('worker/media/image-decoder.repository.js'),
    load('worker/detection/face-detection.service.js'),
  ]);
  const config = loadConfig(process.env);
  const pool = await InferencePool.start({
    threadUrl: YUNET_THREAD_URL,
    modelPath: config.detector.modelPath,
    threads: 1,
  });
  const decoder = new ImageDecoder({ maxPixels: config.limits.maxImagePixels });
  const service = new FaceDetectionService(pool, decoder, {
    maxSide: config.detector.maxSide,
    scoreThreshold: config.detector.scoreThreshold,
    nmsIou: config.detector.nmsIou,
  });
  return { service, close: () => pool.close() };
}

/** Upright boxes at a low threshold, rounded, with their scores so the reviewer sees the doubtful ones. */
async function detect(imagesDir, draftFile, minConfidence = '0.3') {
  const threshold = Number(minConfidence);
  if (!(threshold > 0 && threshold < 1)) throw new Error(`minConfidence ${minConfidence}: must be in (0, 1)`);
  const { service, close } = await startDetector();
  const images = [];
  try {
    for (const file of await listImages(imagesDir)) {
      const bytes = await readFile(path.join(imagesDir, file));
      const found = await service.detectEncoded(bytes, { autoRotate: false, minConfidence: threshold });
      const faces = found.faces
        .slice(0, MAX_FACES)
        .sort((a, b) => a.x - b.x)
        .map((f) => [...[f.x, f.y, f.w, f.h].map(Math.round), Number(f.score.toFixed(2))]);
      images.push({ file, width: found.width, height: found.height, faces });
      console.log(`${file}: ${faces.length} faces`);
    }
  } finally {
    await close();
  }
  await writeFile(draftFile, `${JSON.stringify({ minConfidence: threshold, images }, null, 1)}\n`);
}

const escapeXml = (s) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

function overlay(width, height, entry) {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(12, Math.round(Math.max(width, height) / 60));
  const rects = (boxes, colour, prefix) =>
    (boxes ?? [])
      .slice(0, MAX_FACES)
      .map(([x, y, w, h, score], i) => {
        const label = escapeXml(`${prefix}${i}${score === undefined ? '' : ` ${score}`}`);
        return (
          `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
          `<text x="${x}" y="${Math.max(font, y - 2)}" font-size="${font}" fill="${colour}" ` +
          `stroke="black" stroke-width="0.6" font-family="sans-serif">${label}</text>`
        );
      })
      .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `${rects(entry.faces, '#00ff44', '')}${rects(entry.ignore, '#ffaa00', 'i')}</svg>`,
  );
}

/** Each picture with its faces (green, numbered) and ignore boxes (orange) drawn on, as PNG. */
async function draw(labelsFile, imagesDir, reviewDir) {
  const { images } = await readLabels(labelsFile);
  await mkdir(reviewDir, { recursive: true });
  for (const entry of images) {
    const input = sharp(path.join(imagesDir, path.basename(entry.file)));
    const { width, height } = await input.metadata();
    const out = path.join(reviewDir, path.basename(entry.file).replace(IMAGE, '.png'));
    await input
      .composite([{ input: overlay(width, height, entry) }])
      .png()
      .toFile(out);
  }
  console.log(`${images.length} pictures drawn in ${reviewDir}`);
}

/** Counts per split and per source, and the checks the set promises: boxes inside the picture, sizes. */
async function stats(labelsFile) {
  const { images } = await readLabels(labelsFile);
  const table = new Map();
  const add = (key, faces) => {
    const row = table.get(key) ?? { images: 0, faces: 0, groups: 0 };
    row.images++;
    row.faces += faces;
    if (faces >= 5) row.groups++;
    table.set(key, row);
  };
  const problems = [];
  for (const img of images) {
    for (const [x, y, w, h] of [...img.faces, ...(img.ignore ?? [])])
      if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > img.width + 1 || y + h > img.height + 1)
        problems.push(`${img.file}: box ${[x, y, w, h]} outside ${img.width}x${img.height}`);
    add('all', img.faces.length);
    add(`split ${img.split}`, img.faces.length);
    add(`source ${img.source}`, img.faces.length);
  }
  const sizes = images.flatMap((i) => i.faces.map(([, , w, h]) => Math.sqrt(w * h))).sort((a, b) => a - b);
  const pct = (p) => Math.round(sizes[Math.min(sizes.length - 1, Math.floor(p * sizes.length))] ?? 0);
  console.log('key\timages\tfaces\timages with >=5 faces');
  for (const [key, row] of table) console.log(`${key}\t${row.images}\t${row.faces}\t${row.groups}`);
  console.log(`face size px (sqrt w*h): min ${pct(0)} p10 ${pct(0.1)} median ${pct(0.5)} max ${pct(1)}`);
  for (const p of problems) console.log(`PROBLEM ${p}`);
  if (problems.length > 0) process.exitCode = 1;
}

const [command, ...args] = process.argv.slice(2);
const commands = { detect, draw, stats };
if (!commands[command]) {
  console.error('usage: label-faces.mjs detect|draw|stats ... (see the head of this file)');
  process.exit(2);
}
await commands[command](...args);
