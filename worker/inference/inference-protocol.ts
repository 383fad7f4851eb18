import type { DetectorInput } from '../detection/detector.js';
import type { FaceBox } from '../detection/face-types.js';

export interface InferenceRequest {
  id: number;
  inputs: DetectorInput[];
  scoreThreshold: number;
}

export type InferenceReply =
  { id: number; ok: true; faces: FaceBox[][]; runMs: number[] } | { id: number; ok: false; message: string };

/** onnxruntime's options for a session, the same for every model family. */
export interface SessionSettings {
  provider: 'cpu' | 'cuda';
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Threads onnxruntime uses inside one run. On a few cores, one per session with several sessions in
   * parallel scales better than several per session.
   */
  intraOpThreads: number;
}

export const DEFAULT_SESSION: SessionSettings = {
  provider: 'cpu',
  graphOptimizationLevel: 'all',
  intraOpThreads: 1,
};

export interface ThreadInit {
  modelPath: string;
  session: SessionSettings;
}

/**
 * `packs`: the thread runs fixed-size canvases and packs the inputs of a request into them, so the pool
 * merges small requests into one (see InferencePool); absent for a model that runs each input alone.
 */
export type ThreadReady =
  { ready: true; packs?: PackedCanvas } | { ready: false; message: string; code: string };

export interface PackedCanvas {
  width: number;
  height: number;
  /** Pixels kept between packed inputs. */
  gap: number;
}
