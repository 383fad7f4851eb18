import type { FacesObj, JobProgress } from './api-contract.js';

/**
 * The job contract between gateway and worker: queue names, the job name, payload and result. The
 * gateway only enqueues through these types and the worker only handles them.
 */

/** Images and videos queue apart, so a synchronous image never waits behind a long video. */
export const QUEUES = { image: 'detect-image', video: 'detect-video' } as const;
export type QueueKind = keyof typeof QUEUES;

export const DETECT_JOB_NAME = 'detect';

export type MediaSource =
  /** A URL the worker downloads. */
  | { kind: 'url'; url: string }
  /** Bytes the gateway parked in Redis under `key` (binary, with a TTL) instead of JSON-encoded base64. */
  | { kind: 'blob'; key: string; bytes: number };

export interface DetectOptions {
  /** Frames sampled from a video, 1–100. */
  numFrames: number;
  /** Keep only the largest face of each frame. */
  singleFace: boolean;
  /** Drop faces scoring below this; undefined means the configured threshold. */
  minConfidence?: number;
  returnFaceUrl: boolean;
  /** Crop margin, as a fraction of the face box's size on every side. */
  expandRatio: number;
  /** Search every quarter turn of the picture, not only upright. */
  autoRotate: boolean;
  /** Faces whose box's shorter side is below this many pixels are dropped. */
  minFaceSize: number;
  /** At most this many faces per frame, largest first; undefined for all. */
  maxFaces?: number;
}

export interface DetectJobData {
  source: MediaSource;
  options: DetectOptions;
  requestId: string;
  callbackUrl?: string;
  /**
   * Who submitted the job: a keyed hash of the API key (see `ownerOf`), never the key. Every read of the
   * job by id checks it; absent when authentication is off.
   */
  owner?: string;
  /**
   * The base of the gateway's absolute URLs for the submitting request, as the gateway chose it
   * (PUBLIC_BASE_URL, else a trusted proxy's forwarded scheme and host, else its listening address; never
   * the Host header). A callback completes relative crop links with it, as the gateway's answers do. Absent
   * on jobs queued by a gateway that predates it: their links stay as the worker made them.
   */
  publicBase?: string;
}

export interface DetectJobResult {
  faces_obj: FacesObj;
  media: 'image' | 'video';
  /** The worker process that ran the job (host:pid), for operations. */
  worker: string;
}

export type DetectJobProgress = JobProgress;

/** Callback deliveries queue apart from detection, each retried with backoff until the receiver accepts it. */
export const WEBHOOK_QUEUE = 'webhook';
export const WEBHOOK_JOB_NAME = 'deliver';

export interface WebhookJobData {
  url: string;
  /** The final answer, serialized once, so the signature covers exactly what is sent on every try. */
  body: string;
  jobId: string;
}
