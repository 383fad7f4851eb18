import type { Config } from '../../shared/config/config.js';
import { familyThreadUrl } from '../inference/family-thread.js';
import { InferencePool } from '../inference/inference-pool.js';
import { ImageDecoder } from '../media/image-decoder.repository.js';
import { FaceDetectionService } from './face-detection.service.js';

export interface FaceDetection {
  pool: InferencePool;
  decoder: ImageDecoder;
  detector: FaceDetectionService;
}

/**
 * The model threads of the configured detector, and the decoder and detector over them: the worker's
 * pipeline, which the benchmarks run in-process too. `onRun` hears every model run's seconds.
 */
export async function startFaceDetection(
  config: Config,
  onRun?: (seconds: number) => void,
): Promise<FaceDetection> {
  const pool = await InferencePool.start({
    threadUrl: familyThreadUrl(config.detector.family),
    modelPath: config.detector.modelPath,
    session: config.detector.session,
    threads: config.detector.inferenceThreads,
    onRun,
  });
  const decoder = new ImageDecoder({ maxPixels: config.limits.maxImagePixels });
  const detector = new FaceDetectionService(pool, decoder, {
    maxSide: config.detector.maxSide,
    scoreThreshold: config.detector.scoreThreshold,
    nmsIou: config.detector.nmsIou,
    band: config.detector.band,
    scores: config.detector.scores,
    landmarkViews: config.detector.landmarkViews,
  });
  return { pool, decoder, detector };
}
