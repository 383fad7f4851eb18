import { DETECTOR_FAMILIES } from '../../shared/detectors/detector-families.js';
import type { DetectorInput } from '../detection/detector.js';
import type { FaceBox } from '../detection/face-types.js';
import { BAND_OVERLAP } from '../detection/scale-plan.js';
import { faceToPicture, viewSize } from '../detection/view-transform.js';
import { facesToInputs, planCanvases } from '../inference/canvas-plan.js';
import { OnnxSession } from '../inference/onnx-session.js';
import { fillCanvas, writeView } from '../inference/tensor-writer.js';
import { serveInference, type FamilyRunner } from '../inference/thread-host.js';
import { checkScrfdOutputs, decodeScrfd } from './scrfd-decoder.js';

const { layout, band } = DETECTOR_FAMILIES.scrfd;
const alignUp = (v: number, multiple: number) => Math.ceil(v / multiple) * multiple;

/**
 * Tiles of a fixed-input model overlap by more than the largest face a fine pass answers for, so every
 * such face lies whole in some tile, away from its cut edges (see ../inference/canvas-plan.ts). The
 * coarsest pass, which answers for larger faces, fits one canvas whole (the band's `coarsestSide`).
 */
const TILE_OVERLAP = Math.ceil(band.bandUpper * BAND_OVERLAP) + 32;
/** Padding between inputs packed into one canvas, so the model's view of one barely reaches the next. */
const PACK_GAP = 32;

/**
 * SCRFD's inference thread. A dynamic file runs each input alone, padded to multiples of 32. A fixed
 * file (such as 640×640) runs canvases of its size: small inputs (orientation checks, mirror windows,
 * landmark crops) packed together, large ones tiled at their own scale.
 */
class ScrfdRunner implements FamilyRunner {
  private readonly canvas?: Float32Array;

  constructor(
    private readonly session: OnnxSession,
    private readonly fixed?: { width: number; height: number },
  ) {
    if (fixed) this.canvas = new Float32Array(3 * fixed.width * fixed.height);
  }

  get packs() {
    return this.fixed && { ...this.fixed, gap: PACK_GAP };
  }

  run(inputs: DetectorInput[], scoreThreshold: number) {
    return this.fixed
      ? this.runPacked(inputs, scoreThreshold, this.fixed)
      : this.runEach(inputs, scoreThreshold);
  }

  private async runEach(inputs: DetectorInput[], scoreThreshold: number) {
    const faces: FaceBox[][] = [];
    const runMs: number[] = [];
    for (const { image, view } of inputs) {
      const seen = viewSize(view.turn, image.width, image.height);
      const width = alignUp(seen.width, band.padTo);
      const height = alignUp(seen.height, band.padTo);
      const tensor = new Float32Array(3 * width * height);
      fillCanvas(tensor, layout);
      writeView(
        image,
        view,
        { x: 0, y: 0, w: seen.width, h: seen.height },
        tensor,
        width,
        height,
        { x: 0, y: 0 },
        layout,
      );
      const { found, ms } = await this.infer(tensor, width, height, scoreThreshold);
      runMs.push(ms);
      faces.push(found.map((f) => faceToPicture(f, view, image.width, image.height)));
    }
    return { faces, runMs };
  }

  private async runPacked(
    inputs: DetectorInput[],
    scoreThreshold: number,
    { width, height }: { width: number; height: number },
  ) {
    const sizes = inputs.map(({ image, view }) => viewSize(view.turn, image.width, image.height));
    const plans = planCanvases(sizes, { side: width, gap: PACK_GAP, tileOverlap: TILE_OVERLAP });
    const canvas = this.canvas!;
    const perCanvas: FaceBox[][] = [];
    const runMs: number[] = [];
    for (const plan of plans) {
      fillCanvas(canvas, layout);
      for (const p of plan) {
        const { image, view } = inputs[p.input]!;
        writeView(image, view, p.src, canvas, width, height, p.dst, layout);
      }
      const { found, ms } = await this.infer(canvas, width, height, scoreThreshold);
      perCanvas.push(found);
      runMs.push(ms);
    }
    const seenFaces = facesToInputs(perCanvas, plans, inputs.length);
    const faces = seenFaces.map((list, i) => {
      const { image, view } = inputs[i]!;
      return list.map((f) => faceToPicture(f, view, image.width, image.height));
    });
    return { faces, runMs };
  }

  private async infer(tensor: Float32Array, width: number, height: number, scoreThreshold: number) {
    const t0 = performance.now();
    const outputs = await this.session.run(tensor, width, height);
    const ms = performance.now() - t0;
    return { found: decodeScrfd(outputs, width, height, scoreThreshold), ms };
  }
}

await serveInference(async ({ modelPath, session: settings }) => {
  const session = await OnnxSession.load(modelPath, settings);
  try {
    checkScrfdOutputs(session.outputs, modelPath);
  } catch (err) {
    await session.release();
    throw err;
  }
  const [, , h, w] = session.inputShape;
  const fixed =
    typeof w === 'number' && typeof h === 'number' && w > 0 && h > 0 ? { width: w, height: h } : undefined;
  return new ScrfdRunner(session, fixed);
});
