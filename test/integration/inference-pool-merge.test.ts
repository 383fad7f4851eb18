import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { FaceBox } from '../../worker/detection/face-types.js';
import { sampleRegion } from '../../worker/detection/resample.js';
import { familyThreadUrl } from '../../worker/inference/family-thread.js';
import { InferencePool } from '../../worker/inference/inference-pool.js';
import { ImageDecoder } from '../../worker/media/image-decoder.repository.js';
import { image } from '../support/fixtures.js';

const MODEL = path.resolve(process.env.SHARED_DIR ?? '../shared', 'models', 'scrfd_500m_kps.onnx');

describe('InferencePool with a fixed-input model: small requests share canvases', function () {
  this.timeout(60_000);
  let runs = 0;
  let pool: InferencePool;
  let crop: Awaited<ReturnType<ImageDecoder['decode']>>;

  before(async function () {
    if (!existsSync(MODEL)) this.skip();
    pool = await InferencePool.start({
      threadUrl: familyThreadUrl('scrfd'),
      modelPath: MODEL,
      threads: 2,
      onRun: () => runs++,
    });
    const decoder = new ImageDecoder({ maxPixels: 40e6 });
    const photo = await decoder.decode(await readFile(image('obama.jpg')), 410, 512);
    // The face fills about half of a 128² square, as a landmark view or a turn check does.
    crop = sampleRegion(photo, { cx: 205, cy: 190, w: 260, h: 260, angle: 0 }, 128, 128);
  });
  after(async () => pool?.close());

  const picture = {};
  const ask = (group: object | undefined) =>
    pool.detect(
      [
        { image: crop, view: { turn: 0, mirror: false } },
        { image: crop, view: { turn: 0, mirror: true } },
      ],
      0.25,
      group,
    );

  it('when eight requests of two 128² views are made together, then they run in one canvas, each getting its own faces in order', async () => {
    runs = 0;
    const alone = await ask(picture);
    expect(runs).to.equal(1);
    runs = 0;
    const together = await Promise.all(Array.from({ length: 8 }, () => ask(picture)));
    expect(runs).to.equal(1);
    for (const answer of together) {
      expect(answer).to.have.length(2);
      for (const [i, faces] of answer.entries()) {
        expect(faces).to.have.length(alone[i]!.length);
        const a: FaceBox = faces[0]!;
        const b: FaceBox = alone[i]![0]!;
        // Its neighbours in the canvas, 32 px away, move a face's box by a pixel or two (2-3 % of this face's
        // size) and its score by a few hundredths, as packing did within one request before merging.
        for (const key of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(a[key] - b[key])).to.be.below(2);
        expect(a.score).to.be.closeTo(b.score, 0.1);
      }
    }
  });

  it('when more is asked together than one canvas holds, then the requests spread over canvases and threads', async () => {
    runs = 0;
    const answers = await Promise.all(Array.from({ length: 24 }, () => ask(picture)));
    expect(answers.every((a) => a.length === 2 && a[0]!.length > 0)).to.equal(true);
    expect(runs).to.be.within(3, 4);
  });

  it('when requests of different pictures, or of none, are made together, then each runs in canvases of its own', async () => {
    runs = 0;
    await Promise.all([ask({}), ask({}), ask(undefined), ask(undefined)]);
    expect(runs).to.equal(4);
  });
});
