import type { FaceBox } from '../detection/face-box.js';
import type { RawImage } from '../detection/input-tensor.js';

/** One model run: an image at one scale, optionally mirrored. */
export interface InferenceInput {
  image: RawImage;
  mirror: boolean;
}

export interface InferenceRequest {
  id: number;
  inputs: InferenceInput[];
  scoreThreshold: number;
}

export type InferenceReply =
  { id: number; ok: true; faces: FaceBox[][]; runMs: number[] } | { id: number; ok: false; message: string };

export interface ThreadInit {
  modelPath: string;
}

export type ThreadReady = { ready: true } | { ready: false; message: string; code: string };
