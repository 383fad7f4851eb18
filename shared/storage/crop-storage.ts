import type { Readable } from 'node:stream';

/** One cropped face, named after the frame it came from and its index in that frame. */
export interface Crop {
  frame: string;
  face: number;
  jpeg: Buffer;
}

/**
 * Where cropped face JPEGs go (`return_face_url`). Implementations fail with StorageError, never with a
 * partial answer: a caller gets a key for every crop or none at all, so no link it hands out dangles.
 * Links are signed by CropLinkSigner and served by the gateway, whatever the store.
 */
export interface CropStorage {
  /** Prepares the store (bucket, directories); throws StorageError when it cannot. */
  init(): Promise<void>;
  /** Stores the crops of one job and answers their keys (`crops/…`) in input order. */
  putCrops(jobId: string, crops: Crop[]): Promise<string[]>;
  /** The JPEG under `key`, or undefined when the key is not one the store makes, or the crop is gone. */
  read(key: string): Promise<Readable | undefined>;
  /** Readiness probe: throws StorageError when the store cannot be used right now. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Job ids and frame names become path segments on disk and in the bucket, so they are held to a
 * character set that cannot spell `..`, `/` or a hidden file.
 */
const SEGMENT = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const SEGMENT_RE = new RegExp(`^${SEGMENT}$`);
const MAX_FACE = 999_999_999;

/** Matches exactly the keys `cropKey` makes, so a served path can be checked without touching the disk. */
export const CROP_KEY_PATTERN = new RegExp(
  `^crops/\\d{4}-\\d{2}-\\d{2}/${SEGMENT}/${SEGMENT}_\\d{1,9}\\.jpg$`,
);

export function cropKey(date: Date, jobId: string, frame: string, face: number): string {
  if (!SEGMENT_RE.test(jobId)) throw new RangeError(`Crop key: job id ${JSON.stringify(jobId)} is not safe`);
  if (!SEGMENT_RE.test(frame)) throw new RangeError(`Crop key: frame ${JSON.stringify(frame)} is not safe`);
  if (!Number.isInteger(face) || face < 0 || face > MAX_FACE) {
    throw new RangeError(`Crop key: face ${face} must be an integer from 0 to ${MAX_FACE}`);
  }
  return `crops/${date.toISOString().slice(0, 10)}/${jobId}/${frame}_${face}.jpg`;
}
