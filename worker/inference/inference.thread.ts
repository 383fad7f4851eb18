import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../shared/errors/app-error.js';
import { TensorBuffers, toYunetTensor, type RawImage } from '../detection/input-tensor.js';
import { decodeYunet } from '../detection/yunet-decoder.js';
import { unmirror } from '../detection/flip-refinement.js';
import type { InferenceReply, InferenceRequest, ThreadInit, ThreadReady } from './inference-protocol.js';
import { YunetSession } from './yunet-session.js';

/**
 * Runs in a worker thread: onnxruntime's run() blocks the thread it is called on, so it must never run on
 * the thread that serves HTTP or renews BullMQ locks. Tensor building and decoding happen here too, so the
 * main thread only resizes (libuv pool) and receives a few boxes.
 */
const port = parentPort;
if (!port) throw new Error('inference.thread must run as a worker thread');
const { modelPath } = workerData as ThreadInit;
const buffers = new TensorBuffers();

try {
  const session = await YunetSession.load(modelPath);
  port.on('message', (req: InferenceRequest) => {
    void handle(session, req).then((reply) => port.postMessage(reply));
  });
  port.postMessage({ ready: true } satisfies ThreadReady);
} catch (err) {
  const code = err instanceof AppError ? err.code : 'INTERNAL';
  port.postMessage({
    ready: false,
    code,
    message: err instanceof Error ? err.message : String(err),
  } satisfies ThreadReady);
}

async function handle(session: YunetSession, req: InferenceRequest): Promise<InferenceReply> {
  try {
    const faces = [];
    const runMs = [];
    for (const { image, mirror } of req.inputs) {
      const { outputs, width, height, ms } = await runOnce(session, image, mirror);
      runMs.push(ms);
      const found = decodeYunet(outputs, width, height, req.scoreThreshold);
      faces.push(mirror ? found.map((f) => unmirror(f, image.width)) : found);
    }
    return { id: req.id, ok: true, faces, runMs };
  } catch (err) {
    return { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

async function runOnce(session: YunetSession, image: RawImage, mirror: boolean) {
  const buffer = buffers.take(image);
  try {
    const { tensor, width, height } = toYunetTensor(image, mirror, buffer);
    const t0 = performance.now();
    const outputs = await session.run(tensor, width, height);
    return { outputs, width, height, ms: performance.now() - t0 };
  } finally {
    buffers.give(image, buffer);
  }
}
