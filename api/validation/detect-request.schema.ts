import { z } from 'zod';
import { InvalidRequestError, UrlRefusedError, URL_REFUSALS } from '../../shared/errors/errors.js';
import { MESSAGES } from '../../shared/contract/api-contract.js';
import { FACE_SELECT_RULES } from '../../shared/contract/detect-job.contract.js';

/**
 * The request body of POST /detect. Types are strict (`"true"` is no boolean, `"5"` no integer) and unknown
 * fields are ignored. The OpenAPI document is generated from this schema.
 */
/** A number in [min, max] (an integer if asked); every violation gives the same message naming the rule. */
function bounded(field: string, min: number, max: number, integer = false) {
  const error = `'${field}' must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`;
  const n = z.number({ error });
  return (integer ? n.int({ error }) : n).min(min, { error }).max(max, { error });
}

const flag = (field: string) =>
  z.boolean({ error: `'${field}' must be a boolean (true or false)` }).default(false);
const text = (field: string) => z.string({ error: `'${field}' must be a string` }).optional();

export const detectRequestSchema = z.object({
  url: text('url').describe('http(s) URL of an image or a video. Wins over `img`.'),
  img: text('img').describe('Base64 image, plain or as a data URI.'),
  num_frames: bounded('num_frames', 1, 100, true)
    .default(5)
    .describe('Frames sampled evenly from a video (ignored for images).'),
  return_face_url: flag('return_face_url').describe('Return a URL of a cropped JPEG per face.'),
  single_face: flag('single_face').describe('Only the largest face of each frame.'),
  min_confidence: bounded('min_confidence', 0, 1)
    .optional()
    .describe('Faces scoring below are dropped (default: the service threshold).'),
  async: flag('async').describe('Answer at once with a job id instead of waiting.'),
  expand_ratio: bounded('expand_ratio', 0, 2)
    .default(0.3)
    .describe('Crop margin on every side, as a fraction of the face box.'),
  auto_rotate: z
    .boolean({ error: "'auto_rotate' must be a boolean (true or false)" })
    .optional()
    .describe(
      "Find faces whatever the quarter turn of the picture (a phone photo whose EXIF was stripped); landmarks stay in the subject's order. Default: the service setting AUTO_ROTATE (on).",
    ),
  min_face_size: bounded('min_face_size', 0, 100000, true)
    .default(0)
    .describe('Faces whose box is smaller than this many pixels on its shorter side are dropped.'),
  max_faces: bounded('max_faces', 1, 1000, true)
    .optional()
    .describe('At most this many faces per frame, largest first.'),
  face_select: z
    .enum(FACE_SELECT_RULES, {
      error: `'face_select' must be one of ${FACE_SELECT_RULES.map((r) => `'${r}'`).join(', ')}`,
    })
    .optional()
    .describe(
      "One face per frame, chosen by this rule (implies `single_face`): `largest` (the default rule of `single_face`), `center_largest` (InsightFace's: area − 2·(distance from the face's centre to the image's centre)², in pixels), `best` (the most usable for a face swap, as `tracks` rank them). Cannot go with `max_faces` above 1.",
    ),
  callback_url: text('callback_url').describe(
    'URL that receives the final answer by POST, signed with X-Signature.',
  ),
});

type DetectRequestBody = z.infer<typeof detectRequestSchema>;

/** Everything but the media: the options, which an upload sends as query parameters or form fields. */
export type RequestOptions = Omit<DetectRequestBody, 'url' | 'img'>;

/** An image sent as the request's body or as a multipart part rather than as base64 in JSON. */
export interface ImageUpload {
  bytes: Buffer;
  /** The media type the client declared: the body's Content-Type, or the part's. */
  declaredType: string;
  /** How answers name it: "The body" or "The 'file' part". */
  name: string;
}

export type DetectRequest = RequestOptions &
  ({ media: 'url'; url: string } | { media: 'img'; img: string } | { media: 'upload'; upload: ImageUpload });

/** Every violation reported, each naming its field and rule. */
export function issuesMessage(error: z.ZodError): string {
  return error.issues.map((i) => i.message).join('; ');
}

/** Validates a parsed JSON body; every violation is reported, each naming its field and rule. */
export function parseDetectRequest(body: unknown): DetectRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object');
  }
  const parsed = detectRequestSchema.safeParse(body);
  if (!parsed.success) throw new InvalidRequestError(issuesMessage(parsed.error));
  const { url, img, ...rest } = parsed.data;
  checkOptions(rest);
  if (url !== undefined) {
    if (!isHttpUrl(url)) throw new InvalidRequestError(MESSAGES.invalidUrl);
    refuseCredentials('url', url);
    return { ...rest, media: 'url', url };
  }
  if (img !== undefined) return { ...rest, media: 'img', img };
  throw new InvalidRequestError(MESSAGES.missingMedia);
}

/** The rules a schema cannot say, shared by JSON bodies and uploads. */
export function checkOptions(options: RequestOptions): void {
  if (options.face_select !== undefined && options.max_faces !== undefined && options.max_faces > 1) {
    throw new InvalidRequestError(
      `'face_select' keeps one face per frame and cannot go with 'max_faces' ${options.max_faces}; send one of them, or 'max_faces' 1`,
    );
  }
  if (options.callback_url !== undefined) checkCallbackUrl(options.callback_url);
}

/** A `callback_url` as sent: an http(s) URL without credentials. */
export function checkCallbackUrl(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidRequestError("'callback_url' must be a string");
  if (!isHttpUrl(value)) throw new InvalidRequestError("'callback_url' must be an http or https URL");
  refuseCredentials('callback_url', value);
  return value;
}

function isHttpUrl(value: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname.length > 0;
}

/**
 * Credentials in a URL would be stored with the job in Redis and written to logs; they are refused rather
 * than silently stripped, so a client learns at once that its URL cannot work.
 */
function refuseCredentials(field: string, value: string): void {
  const parsed = new URL(value);
  if (parsed.username || parsed.password) throw new UrlRefusedError(field, URL_REFUSALS.credentials);
}
