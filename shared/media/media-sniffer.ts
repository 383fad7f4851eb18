import { fileTypeFromBuffer } from 'file-type';

/**
 * What the first bytes of a file say it is; the bytes win over a URL's extension or a declared type.
 * `format` is our name for the container or image format, `mime` the type file-type read (also for bytes of
 * a known type that is no media we take, so that a refusal can name it).
 */
export type SniffedMedia =
  | { kind: 'image'; format: string; mime: string }
  | { kind: 'video'; format: string; mime: string }
  | { kind: 'unknown'; mime?: string };

/**
 * file-type's sample: every signature it knows lies within these first bytes, and it reads no further, so a
 * caller passes at most this much.
 */
export const SNIFF_BYTES = 4100;

/** file-type's extension to our image format; HEIF is split by whether its brand says HEVC. */
const IMAGE_FORMATS: Record<string, string> = {
  jpg: 'jpeg',
  png: 'png',
  apng: 'png',
  gif: 'gif',
  tif: 'tiff',
  bmp: 'bmp',
  webp: 'webp',
  avif: 'avif',
};

/**
 * file-type's extension to our container name. Everything in a video container goes to ffmpeg, audio-only
 * variants (m4a, Ogg Vorbis) included, so that ffmpeg says the media has no video stream.
 */
const VIDEO_FORMATS: Record<string, string> = {
  mp4: 'mp4',
  m4v: 'mp4',
  m4p: 'mp4',
  m4a: 'mp4',
  m4b: 'mp4',
  f4v: 'mp4',
  f4p: 'mp4',
  f4a: 'mp4',
  f4b: 'mp4',
  '3gp': 'mp4',
  '3g2': 'mp4',
  mov: 'mov',
  mkv: 'matroska',
  webm: 'matroska',
  avi: 'avi',
  flv: 'flv',
  ogv: 'ogg',
  ogm: 'ogg',
  ogg: 'ogg',
  oga: 'ogg',
  opus: 'ogg',
  spx: 'ogg',
  ogx: 'ogg',
  mpg: 'mpeg',
  mts: 'mpegts',
};

/** HEIF whose pictures are HEVC-coded (brands heic, heix, hevc, hevx), which the image library cannot decode. */
const HEVC_TYPES = new Set(['image/heic', 'image/heic-sequence']);

/** Reads what `bytes` are from their first SNIFF_BYTES. Call it once per upload or download and pass the answer on. */
export async function sniffMedia(bytes: Uint8Array): Promise<SniffedMedia> {
  const type = await fileTypeFromBuffer(bytes.subarray(0, SNIFF_BYTES));
  if (!type) return { kind: 'unknown' };
  const { ext, mime } = type;
  if (ext === 'heic') return { kind: 'image', format: HEVC_TYPES.has(mime) ? 'heic' : 'heif', mime };
  const image = IMAGE_FORMATS[ext];
  if (image) return { kind: 'image', format: image, mime };
  const video = VIDEO_FORMATS[ext];
  if (video) return { kind: 'video', format: video, mime };
  return { kind: 'unknown', mime };
}
const VIDEO_EXTENSIONS = new Set([
  'mp4',
  'mov',
  'm4v',
  'webm',
  'mkv',
  'avi',
  'flv',
  'wmv',
  'mpg',
  'mpeg',
  'ts',
  'm2ts',
  '3gp',
  'ogv',
]);

/**
 * The original API decides by the URL's extension first; this is the gateway's first guess of a URL's lane.
 * The worker's first look at the bytes moves a job that guessed wrong (see `LaneMove`).
 */
export function guessKindFromUrl(url: string): 'image' | 'video' {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return 'image';
  }
  const ext = pathname.toLowerCase().split('.').pop() ?? '';
  return VIDEO_EXTENSIONS.has(ext) ? 'video' : 'image';
}
