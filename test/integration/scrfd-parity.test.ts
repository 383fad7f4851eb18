import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { iou, type FaceBox } from '../../worker/detection/face-types.js';
import { decodeScrfd, type ScrfdTensor } from '../../worker/scrfd/scrfd-decoder.js';
import { FACES_DEV, image } from '../support/fixtures.js';

const MODELS = path.join(FACES_DEV, '..', '..', 'models');
const SIZE = 640;
const THRESHOLD = 0.5;
const NMS_IOU = 0.4;
/** Photos with faces, and how many of them each must give at least (the clear, frontal ones). */
const PHOTOS: [string, number][] = [
  [image('two_people.jpg'), 2],
  [image('obama.jpg'), 1],
  [path.join(FACES_DEV, '2007_007763.jpg'), 1],
  [path.join(FACES_DEV, '2008_001009.jpg'), 1],
];

/** InsightFace's letterbox: scaled to fit 640×640, top-left aligned on black, RGB, (x − 127.5)/128, NCHW. */
async function letterbox(file: string): Promise<Float32Array> {
  const meta = await sharp(file).metadata();
  const imRatio = meta.height / meta.width;
  const [w, h] = imRatio > 1 ? [Math.trunc(SIZE / imRatio), SIZE] : [SIZE, Math.trunc(SIZE * imRatio)];
  const { data } = await sharp(file)
    .removeAlpha()
    .resize(w, h, { fit: 'fill' })
    .extend({ right: SIZE - w, bottom: SIZE - h, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = SIZE * SIZE;
  const blob = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) blob[c * plane + p] = (data[p * 3 + c]! - 127.5) / 128;
  }
  return blob;
}

async function infer(modelPath: string, blob: Float32Array): Promise<ScrfdTensor[]> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const input = new ort.Tensor('float32', blob, [1, 3, SIZE, SIZE]);
    const results = await session.run({ [session.inputNames[0]!]: input });
    return session.outputNames.map((name) => {
      const t = results[name]!;
      return { data: t.data as Float32Array, dims: t.dims };
    });
  } finally {
    await session.release();
  }
}

/**
 * An independent reading of InsightFace's `forward`: anchor_centers as an explicit [K·2, 2] grid
 * (np.mgrid, then each centre stacked twice), then distance2bbox / distance2kps over all rows.
 */
function reference(outs: readonly ScrfdTensor[], threshold: number): FaceBox[] {
  const result: FaceBox[] = [];
  [8, 16, 32].forEach((stride, idx) => {
    const height = Math.floor(SIZE / stride);
    const width = Math.floor(SIZE / stride);
    const anchorCenters: [number, number][] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) anchorCenters.push([x * stride, y * stride], [x * stride, y * stride]);
    }
    const scores = outs[idx]!.data;
    const bboxPreds = outs[idx + 3]!.data.map((d) => d * stride);
    const kpsPreds = outs[idx + 6]!.data.map((d) => d * stride);
    anchorCenters.forEach(([px, py], r) => {
      if (scores[r]! < threshold) return;
      const [x1, y1, x2, y2] = [
        px - bboxPreds[r * 4]!,
        py - bboxPreds[r * 4 + 1]!,
        px + bboxPreds[r * 4 + 2]!,
        py + bboxPreds[r * 4 + 3]!,
      ];
      const kps = Array.from(kpsPreds.subarray(r * 10, r * 10 + 10), (d, j) => (j % 2 === 0 ? px : py) + d);
      result.push({ x: x1, y: y1, w: x2 - x1, h: y2 - y1, score: scores[r]!, landmarks: kps });
    });
  });
  return result;
}

/** Plain greedy NMS, best score first. */
function nms(faces: readonly FaceBox[]): FaceBox[] {
  const kept: FaceBox[] = [];
  for (const f of [...faces].sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => iou(k, f) <= NMS_IOU)) kept.push(f);
  }
  return kept;
}

function expectSameFaces(actual: readonly FaceBox[], expected: readonly FaceBox[], label: string) {
  expect(actual.length, `${label}: face count`).to.equal(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.score, `${label} face ${i} score`).to.be.closeTo(e.score, 1e-6);
    const got = [a.x, a.y, a.w, a.h, ...a.landmarks];
    const want = [e.x, e.y, e.w, e.h, ...e.landmarks];
    got.forEach((v, j) => expect(v, `${label} face ${i} value ${j}`).to.be.closeTo(want[j]!, 1));
  });
}

for (const model of ['scrfd_2.5g_kps.onnx', 'scrfd_500m_kps.onnx']) {
  const modelPath = path.join(MODELS, model);

  describe(`SCRFD decoding parity on ${model}`, function () {
    this.timeout(120_000);

    before(function () {
      if (!existsSync(modelPath)) {
        console.warn(`    ${modelPath} is absent, so SCRFD decoding is not checked on it`);
        this.skip();
      }
    });

    for (const [photo, atLeast] of PHOTOS) {
      it(`when ${path.basename(photo)} is decoded, then the faces equal the reference's and are found`, async () => {
        const outs = await infer(modelPath, await letterbox(photo));
        const ours = nms(decodeScrfd(outs, SIZE, SIZE, THRESHOLD));
        expectSameFaces(ours, nms(reference(outs, THRESHOLD)), path.basename(photo));
        expect(ours.length, `${path.basename(photo)}: faces found`).to.be.at.least(atLeast);
      });
    }
  });
}

describe('SCRFD decoding of an unbatched export', function () {
  this.timeout(120_000);
  const original = path.join(MODELS, 'scrfd_500m_kps.onnx');
  let dir: string;
  let unbatched: string;

  before(function () {
    if (!existsSync(original)) {
      console.warn(`    ${original} is absent, so the unbatched layout is not checked`);
      this.skip();
    }
    const python = ['/usr/bin/python3', 'python3'].find(
      (bin) => spawnSync(bin, ['-c', 'import onnx']).status === 0,
    );
    if (!python) {
      console.warn(
        '    no python3 with the onnx module, so the unbatched layout is not checked ' +
          '(apt-get install -y python3-onnx)',
      );
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'scrfd-unbatched-'));
    unbatched = path.join(dir, 'scrfd_500m_kps_unbatched.onnx');
    const made = spawnSync(python, ['scripts/scrfd-unbatch.py', original, unbatched], { encoding: 'utf8' });
    expect(made.status, `scrfd-unbatch.py failed:\n${made.stderr}`).to.equal(0);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('when the outputs are [N, k] instead of [1, N, k], then the same faces are decoded', async () => {
    const blob = await letterbox(image('two_people.jpg'));
    const batchedOuts = await infer(original, blob);
    const unbatchedOuts = await infer(unbatched, blob);
    expect(unbatchedOuts.map((t) => t.dims.length)).to.deep.equal(new Array<number>(9).fill(2));
    const faces = decodeScrfd(unbatchedOuts, SIZE, SIZE, THRESHOLD);
    expect(faces.length).to.be.greaterThan(0);
    expect(faces).to.deep.equal(decodeScrfd(batchedOuts, SIZE, SIZE, THRESHOLD));
  });
});
