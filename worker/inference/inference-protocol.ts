import type { DetectorInput } from '../detection/detector.js';
import type { FaceBox } from '../detection/face-types.js';

export interface InferenceRequest {
  id: number;
  inputs: DetectorInput[];
  scoreThreshold: number;
}

export type InferenceReply =
  { id: number; ok: true; faces: FaceBox[][]; runMs: number[] } | { id: number; ok: false; message: string };

export interface ThreadInit {
  modelPath: string;
}

export type ThreadReady = { ready: true } | { ready: false; message: string; code: string };
