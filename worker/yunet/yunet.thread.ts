import { ModelError } from '../../shared/errors/errors.js';
import type { DetectorInput } from '../detection/detector.js';
import { faceToPicture, viewSize } from '../detection/view-transform.js';
import { OnnxSession } from '../inference/onnx-session.js';
import { serveInference, type FamilyRunner } from '../inference/thread-host.js';
import { decodeYunet, type YunetOutputs } from './yunet-decoder.js';
import { TensorBuffers, toYunetTensor } from './yunet-tensor.js';

/** YuNet's inference thread: each input runs alone, padded to multiples of 32 (the model is dynamic). */
class YunetRunner implements FamilyRunner {
  private readonly buffers = new TensorBuffers();

  constructor(private readonly session: OnnxSession) {}

  async run(inputs: DetectorInput[], scoreThreshold: number) {
    const faces = [];
    const runMs = [];
    for (const input of inputs) {
      const { outputs, width, height, ms } = await this.runOnce(input);
      runMs.push(ms);
      const { image, view } = input;
      const found = decodeYunet(outputs, width, height, scoreThreshold);
      faces.push(found.map((f) => faceToPicture(f, view, image.width, image.height)));
    }
    return { faces, runMs };
  }

  private async runOnce({ image, view }: DetectorInput) {
    const seen = viewSize(view.turn, image.width, image.height);
    const buffer = this.buffers.take(seen);
    try {
      const { tensor, width, height } = toYunetTensor(image, view, buffer);
      const t0 = performance.now();
      const results = await this.session.run(tensor, width, height);
      const outputs: YunetOutputs = {};
      for (const { name, data } of results) outputs[name] = data;
      return { outputs, width, height, ms: performance.now() - t0 };
    } finally {
      this.buffers.give(seen, buffer);
    }
  }
}

await serveInference(async ({ modelPath, session: settings }) => {
  const session = await OnnxSession.load(modelPath, settings);
  const outputs = new Set(session.outputNames);
  const missing = ['cls_8', 'obj_8', 'bbox_8', 'kps_8', 'cls_32'].filter((n) => !outputs.has(n));
  if (missing.length > 0) {
    await session.release();
    throw new ModelError(
      `Model file ${modelPath} is not a YuNet detector (outputs ${missing.join(', ')} missing).`,
    );
  }
  return new YunetRunner(session);
});
