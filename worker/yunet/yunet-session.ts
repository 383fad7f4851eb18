import { access } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../shared/errors/errors.js';
import type { YunetOutputs } from './yunet-decoder.js';

export interface YunetSessionOptions {
  /**
   * Threads onnxruntime uses inside one run. On a few cores, one per session with several sessions in
   * parallel scales better than several per session.
   * @defaultValue 1
   */
  intraOpThreads?: number;
}

const HOW_TO_GET_MODEL =
  'Run `npm run models` (copies it from ../shared/models or downloads it, checked by SHA-256), or set MODELS_DIR.';

/** The one wrapper around onnxruntime: a YuNet session, created once per thread and reused for every run. */
export class YunetSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(modelPath: string, options: YunetSessionOptions = {}): Promise<YunetSession> {
    try {
      await access(modelPath);
    } catch {
      throw new ModelError(`Model file ${modelPath} is missing. ${HOW_TO_GET_MODEL}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
      });
    } catch (err) {
      throw new ModelError(`Model file ${modelPath} could not be loaded (corrupt?). ${HOW_TO_GET_MODEL}`, {
        cause: err,
      });
    }
    const outputs = new Set(session.outputNames);
    const missing = ['cls_8', 'obj_8', 'bbox_8', 'kps_8', 'cls_32'].filter((n) => !outputs.has(n));
    if (session.inputNames.length !== 1 || missing.length > 0) {
      await session.release();
      throw new ModelError(
        `Model file ${modelPath} is not a YuNet detector (outputs ${missing.join(', ')} missing).`,
      );
    }
    return new YunetSession(session);
  }

  /** Runs the model on one planar BGR tensor of `width`×`height` (multiples of 32). Blocks this thread. */
  async run(tensor: Float32Array, width: number, height: number): Promise<YunetOutputs> {
    const input = new ort.Tensor('float32', tensor, [1, 3, height, width]);
    const results = await this.session.run({ [this.session.inputNames[0]!]: input });
    const outputs: YunetOutputs = {};
    for (const [name, value] of Object.entries(results)) outputs[name] = value.data as Float32Array;
    return outputs;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
