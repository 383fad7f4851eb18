import type { FacesObj, JobProgress, Track } from './api-contract.js';

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

/** `face_select`: how the one face of a frame is chosen. */
export const FACE_SELECT_RULES = ['largest', 'center_largest', 'best'] as const;
export type FaceSelect = (typeof FACE_SELECT_RULES)[number];

export interface DetectOptions {
  /** Frames sampled from a video, 1–100. */
  numFrames: number;
  /** Keep only one face of each frame: the largest, or the one `faceSelect` chooses. */
  singleFace: boolean;
  /** The rule choosing the one face (implies `singleFace`); undefined keeps the largest. */
  faceSelect?: FaceSelect;
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
  /**
   * Set on a job that moved lanes (see `LaneMove`): the id the client was given, which its answers,
   * callback and crops keep. A moved job never moves again, whatever its bytes say the next time.
   */
  movedFrom?: string;
  /** Set on the items of a batch that asked for a callback: where this job's final answer is recorded. */
  batch?: BatchMembership;
}

/**
 * An item's place in a batch with a `callback_url`. Each item's final answer is recorded under the batch
 * as it ends, in the worker or (refused before queueing) at the gateway, and whoever records the last one
 * queues the batch's answer for delivery, so no process has to stay alive waiting for the rest.
 */
export interface BatchMembership {
  /** The batch's id, `b-…`. */
  id: string;
  /** This item's position in the request, 0-based. */
  index: number;
  /** Items in the batch. */
  total: number;
  callbackUrl: string;
}

export interface DetectJobResult {
  faces_obj: FacesObj;
  /** Videos: one entry per face id. Absent for images, and on results of workers that predate it. */
  tracks?: Track[];
  media: 'image' | 'video';
  /** The worker process that ran the job (host:pid), for operations. */
  worker: string;
}

/**
 * What a job answers instead of a result when its bytes belong to the other lane. The gateway queues a URL
 * by its extension, a guess; the worker that fetches it reads the first bytes before anything else (the
 * range probe it makes anyway, or the head of a body sent whole) and, when they say the other kind, queues
 * the job in the other lane under the linked id (`linkedJobId`: the same id, the other prefix) and ends
 * this one with `movedTo`. The gateway follows the link: its sync wait listens for both ids from the start,
 * a poll of the client's id reads the linked job, and the callback and crops carry the client's id.
 *
 * Why here and not by a probe at the gateway before queueing: the bytes the worker runs on are the ones
 * that count (an origin may answer a probe with one thing and the download with another, so the worker
 * would need this anyway); the gateway, which faces the internet, never connects to users' URLs; an async
 * request gets its 202 without waiting for the origin; and an image costs nothing more, since the probe is
 * the one every URL download already starts with. A video behind an image-looking URL costs one 4 KiB
 * request in the image lane and a hop between queues.
 */
export interface LaneMove {
  movedTo: string;
}

/** What a detection job returns in BullMQ: its result, or where it moved. */
export type DetectJobReturn = DetectJobResult | LaneMove;

export function isLaneMove(value: unknown): value is LaneMove {
  return typeof value === 'object' && value !== null && typeof (value as LaneMove).movedTo === 'string';
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
