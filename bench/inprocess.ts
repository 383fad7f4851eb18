import sharp from 'sharp';
import type { Config } from '../shared/config/config.js';
import type { FaceDetectionService } from '../worker/detection/face-detection.service.js';
import { startFaceDetection } from '../worker/detection/start-face-detection.js';
import type { RawImage } from '../worker/detection/face-types.js';
import { toYunetTensor } from '../worker/yunet/yunet-tensor.js';
import { planScales } from '../worker/detection/scale-plan.js';
import type { InferencePool } from '../worker/inference/inference-pool.js';
import { OnnxSession } from '../worker/inference/onnx-session.js';
import { ImageDecoder } from '../worker/media/image-decoder.repository.js';
import { runLoad, type LoadOptions, type LoadSample } from './http-load.js';
import { median } from './stats.js';

interface PassFloor {
  width: number;
  height: number;
  /** The tensor's size: the pass padded to multiples of 32. */
  paddedWidth: number;
  paddedHeight: number;
  ms: number;
}

export interface ModelFloor {
  runs: number;
  /** Median ms of session.run per pass, finest first. */
  passes: PassFloor[];
  /** Median over iterations of the sum of all passes' run times: the model's share of one image. */
  allPassesMs: number;
}

/**
 * `session.run` alone, on tensors prepared beforehand exactly as the service prepares them, one intra-op
 * thread as each inference thread has: the floor no pipeline around the model can go below. Measured in
 * rounds taken in turns with the pipeline, then summarised.
 */
export class ModelFloorProbe {
  private readonly perPass: number[][];
  private readonly sums: number[] = [];

  private constructor(
    private readonly session: OnnxSession,
    private readonly images: RawImage[],
    private readonly tensors: { tensor: Float32Array; width: number; height: number }[],
  ) {
    this.perPass = tensors.map(() => []);
  }

  static async start(config: Config, bytes: Buffer): Promise<ModelFloorProbe> {
    const decoder = new ImageDecoder({ maxPixels: config.limits.maxImagePixels });
    const { width, height } = await decoder.probe(bytes);
    const passes = planScales(width, height, { ...config.detector.band, maxSide: config.detector.maxSide });
    const finest = await decoder.decode(bytes, passes[0]!.width, passes[0]!.height);
    const images: RawImage[] = [finest];
    for (const pass of passes.slice(1)) images.push(await decoder.resizeRaw(finest, pass.width, pass.height));
    const tensors = images.map((image) => toYunetTensor(image));
    const session = await OnnxSession.load(config.detector.modelPath, config.detector.session);
    const probe = new ModelFloorProbe(session, images, tensors);
    for (let i = 0; i < 3; i++) for (const t of tensors) await session.run(t.tensor, t.width, t.height);
    return probe;
  }

  /** One round: every pass in turn, `runs` times or until `maxSeconds`. */
  async measure(runs: number, maxSeconds: number): Promise<void> {
    const deadline = performance.now() + maxSeconds * 1000;
    for (let n = 0; n < runs && performance.now() < deadline; n++) {
      let sum = 0;
      for (const [i, t] of this.tensors.entries()) {
        const t0 = performance.now();
        await this.session.run(t.tensor, t.width, t.height);
        const ms = performance.now() - t0;
        this.perPass[i]!.push(ms);
        sum += ms;
      }
      this.sums.push(sum);
    }
  }

  result(): ModelFloor {
    return {
      runs: this.sums.length,
      passes: this.tensors.map((t, i) => ({
        width: this.images[i]!.width,
        height: this.images[i]!.height,
        paddedWidth: t.width,
        paddedHeight: t.height,
        ms: median(this.perPass[i]!),
      })),
      allPassesMs: median(this.sums),
    };
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

/** The worker's detection pipeline in this process: the same classes and settings, no queue, no HTTP. */
export class InProcessPipeline {
  private constructor(
    readonly pool: InferencePool,
    readonly detector: FaceDetectionService,
    private readonly autoRotate: boolean,
  ) {}

  /** `onRun` hears the duration of every model run, in seconds, as the worker's metrics do. */
  static async start(config: Config, onRun?: (seconds: number) => void): Promise<InProcessPipeline> {
    const { pool, detector } = await startFaceDetection(config, onRun);
    return new InProcessPipeline(pool, detector, config.detector.autoRotate);
  }

  /** Decode, resize, infer, post-process of `bytes`, as a closed loop of `concurrency` callers. */
  load(bytes: Buffer, options: LoadOptions, expectedFaces: number): Promise<LoadSample> {
    return runLoad(options, async () => {
      const { faces } = await this.detector.detectEncoded(bytes, { autoRotate: this.autoRotate });
      if (faces.length !== expectedFaces)
        throw new Error(`in-process pipeline found ${faces.length} faces, expected ${expectedFaces}`);
    });
  }

  /** CPU ms per image (this process and its threads), `runs` images one at a time after one warm-up. */
  async cpuPerImage(bytes: Buffer, runs: number): Promise<number> {
    await this.detector.detectEncoded(bytes, { autoRotate: this.autoRotate });
    const before = process.cpuUsage();
    for (let i = 0; i < runs; i++) await this.detector.detectEncoded(bytes, { autoRotate: this.autoRotate });
    const { user, system } = process.cpuUsage(before);
    return (user + system) / 1000 / runs;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * CPU per image in process of a 4032×3024 phone JPEG, made from `portrait`, against `photo`, in
 * alternating rounds; medians of the rounds.
 */
export async function phoneAgainstPhoto(
  pipeline: InProcessPipeline,
  photo: Buffer,
  portrait: Buffer,
  options: { rounds: number; perRound: number },
): Promise<{ phoneMs: number; photoMs: number }> {
  const phone = await sharp(portrait).resize(4032, 3024, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
  const runs: { phoneMs: number; photoMs: number }[] = [];
  for (let round = 0; round < options.rounds; round++) {
    runs.push({
      phoneMs: await pipeline.cpuPerImage(phone, options.perRound),
      photoMs: await pipeline.cpuPerImage(photo, options.perRound),
    });
  }
  return { phoneMs: median(runs.map((r) => r.phoneMs)), photoMs: median(runs.map((r) => r.photoMs)) };
}
