import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../shared/errors/app-error.js';
import type { DetectorInput } from '../detection/detector.js';
import { faceToPicture, viewSize } from '../detection/view-transform.js';
import type {
  InferenceReply,
  InferenceRequest,
  ThreadInit,
  ThreadReady,
} from '../inference/inference-protocol.js';
import { decodeYunet } from './yunet-decoder.js';
import { YunetSession } from './yunet-session.js';
import { TensorBuffers, toYunetTensor } from './yunet-tensor.js';

/**
 * YuNet's inference thread: onnxruntime's run() blocks the thread it is called on, so it must never run on
 * the thread that serves HTTP or renews BullMQ locks. Tensor building and decoding happen here too, so the
 * main thread only resizes (libuv pool) and receives a few boxes.
 */
const port = parentPort;
if (!port) throw new Error('yunet.thread must run as a worker thread');
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
    for (const input of req.inputs) {
      const { outputs, width, height, ms } = await runOnce(session, input);
      runMs.push(ms);
      const { image, view } = input;
      const found = decodeYunet(outputs, width, height, req.scoreThreshold);
      faces.push(found.map((f) => faceToPicture(f, view, image.width, image.height)));
    }
    return { id: req.id, ok: true, faces, runMs };
  } catch (err) {
    return { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

async function runOnce(session: YunetSession, { image, view }: DetectorInput) {
  const seen = viewSize(view.turn, image.width, image.height);
  const buffer = buffers.take(seen);
  try {
    const { tensor, width, height } = toYunetTensor(image, view, buffer);
    const t0 = performance.now();
    const outputs = await session.run(tensor, width, height);
    return { outputs, width, height, ms: performance.now() - t0 };
  } finally {
    buffers.give(seen, buffer);
  }
}
