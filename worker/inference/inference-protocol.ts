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

export type ThreadReady = { ready: true } | { ready: false; message: string; code: string };
