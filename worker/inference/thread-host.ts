import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../shared/errors/app-error.js';
import type { DetectorInput } from '../detection/detector.js';
import type { FaceBox } from '../detection/face-types.js';
import type {
  PackedCanvas,
  InferenceReply,
  InferenceRequest,
  ThreadInit,
  ThreadReady,
} from './inference-protocol.js';

/** A family's model inside its thread: every input of a request, faces in each input picture's pixels. */
export interface FamilyRunner {
  /** The fixed canvas every input is packed into, when the model's input is fixed. */
  readonly packs?: PackedCanvas;
  run(inputs: DetectorInput[], scoreThreshold: number): Promise<{ faces: FaceBox[][]; runMs: number[] }>;
}

/**
 * The part of every family's inference thread that is not the model: onnxruntime's run() blocks the
 * thread it is called on, so it must never run on the thread that serves HTTP or renews BullMQ locks.
 * Tensor building and decoding happen in the thread too, so the main thread only resizes (libuv pool)
 * and receives a few boxes. `load` makes the family's runner from the pool's {@link ThreadInit}.
 */
export async function serveInference(load: (init: ThreadInit) => Promise<FamilyRunner>): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('an inference thread must run as a worker thread');
  try {
    const runner = await load(workerData as ThreadInit);
    port.on('message', (req: InferenceRequest) => {
      void handle(runner, req).then((reply) => port.postMessage(reply));
    });
    port.postMessage({ ready: true, ...(runner.packs ? { packs: runner.packs } : {}) } satisfies ThreadReady);
  } catch (err) {
    const code = err instanceof AppError ? err.code : 'INTERNAL';
    port.postMessage({
      ready: false,
      code,
      message: err instanceof Error ? err.message : String(err),
    } satisfies ThreadReady);
  }
}

async function handle(runner: FamilyRunner, req: InferenceRequest): Promise<InferenceReply> {
  try {
    const { faces, runMs } = await runner.run(req.inputs, req.scoreThreshold);
    return { id: req.id, ok: true, faces, runMs };
  } catch (err) {
    return { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}
