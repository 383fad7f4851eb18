import { access } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../shared/errors/errors.js';
import type { SessionSettings } from './inference-protocol.js';

/** One output tensor of a run, in the session's output order. */
export interface OutputTensor {
  name: string;
  data: Float32Array;
  dims: readonly number[];
}

/** A tensor's declared shape: a number per fixed axis, a name or -1 per free one. */
export type DeclaredShape = readonly (number | string)[];

const HOW_TO_GET_MODEL =
  'Run `npm run models` (copies it from ../shared/models or downloads it, checked by SHA-256), or set MODELS_DIR or MODEL_FILE.';

/**
 * The one wrapper around onnxruntime: a session created once per inference thread and reused for every
 * run. It knows nothing of the model beyond one float input; the family's thread checks the outputs.
 */
export class OnnxSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** The input's declared shape (NCHW). */
    readonly inputShape: DeclaredShape,
  ) {}

  static async load(modelPath: string, settings: SessionSettings): Promise<OnnxSession> {
    try {
      await access(modelPath);
    } catch {
      throw new ModelError(`Model file ${modelPath} is missing. ${HOW_TO_GET_MODEL}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        graphOptimizationLevel: settings.graphOptimizationLevel,
        executionMode: 'sequential',
        executionProviders: [settings.provider],
        intraOpNumThreads: settings.intraOpThreads,
        interOpNumThreads: 1,
      });
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ModelError(
        `Model file ${modelPath} could not be loaded with the ${settings.provider} provider (${detail}).`,
        { cause: err },
      );
    }
    const input = session.inputMetadata[0];
    if (session.inputNames.length !== 1 || !input?.isTensor || input.shape.length !== 4) {
      await session.release();
      throw new ModelError(`Model file ${modelPath} does not take one NCHW image tensor.`);
    }
    return new OnnxSession(session, input.shape);
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Each output's name and declared shape, in output order, for a family to check before any run. */
  get outputs(): { name: string; shape: DeclaredShape }[] {
    return this.session.outputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape : [] }));
  }

  /** Runs the model on one planar tensor of `width`×`height`. Blocks this thread. */
  async run(tensor: Float32Array, width: number, height: number): Promise<OutputTensor[]> {
    const input = new ort.Tensor('float32', tensor, [1, 3, height, width]);
    const results = await this.session.run({ [this.session.inputNames[0]!]: input });
    return this.session.outputNames.map((name) => {
      const value = results[name]!;
      return { name, data: value.data as Float32Array, dims: value.dims };
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
