import { z } from 'zod';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import { MESSAGES } from '../../shared/contract/api-contract.js';

/**
 * The request body of POST /detect. Types are strict (`"true"` is no boolean, `"5"` no integer) and unknown
 * fields are ignored. The OpenAPI document is generated from this schema.
 */
export const detectRequestSchema = z.object({
  url: z
    .string({ error: "'url' must be a string" })
    .optional()
    .describe('http(s) URL of an image or a video. Wins over `img`.'),
  img: z
    .string({ error: "'img' must be a string" })
    .optional()
    .describe('Base64 image, plain or as a data URI.'),
  num_frames: z
    .number({ error: "'num_frames' must be an integer between 1 and 100" })
    .int({ error: "'num_frames' must be an integer between 1 and 100" })
    .min(1, { error: "'num_frames' must be an integer between 1 and 100" })
    .max(100, { error: "'num_frames' must be an integer between 1 and 100" })
    .default(5)
    .describe('Frames sampled evenly from a video (ignored for images).'),
  return_face_url: z
    .boolean({ error: "'return_face_url' must be a boolean (true or false)" })
    .default(false)
    .describe('Return a URL of a cropped JPEG per face.'),
  single_face: z
    .boolean({ error: "'single_face' must be a boolean (true or false)" })
    .default(false)
    .describe('Only the largest face of each frame.'),
  min_confidence: z
    .number({ error: "'min_confidence' must be a number between 0 and 1" })
    .min(0, { error: "'min_confidence' must be a number between 0 and 1" })
    .max(1, { error: "'min_confidence' must be a number between 0 and 1" })
    .optional()
    .describe('Faces scoring below are dropped (default: the service threshold).'),
  async: z
    .boolean({ error: "'async' must be a boolean (true or false)" })
    .default(false)
    .describe('Answer at once with a job id instead of waiting.'),
  expand_ratio: z
    .number({ error: "'expand_ratio' must be a number between 0 and 2" })
    .min(0, { error: "'expand_ratio' must be a number between 0 and 2" })
    .max(2, { error: "'expand_ratio' must be a number between 0 and 2" })
    .default(0.3)
    .describe('Crop margin on every side, as a fraction of the face box.'),
  callback_url: z
    .string({ error: "'callback_url' must be a string" })
    .optional()
    .describe('URL that receives the final answer by POST, signed with X-Signature.'),
});

export type DetectRequestBody = z.infer<typeof detectRequestSchema>;

export type DetectRequest = Omit<DetectRequestBody, 'url' | 'img'> &
  ({ media: 'url'; url: string } | { media: 'img'; img: string });

/** Validates a parsed JSON body; every violation is reported, each naming its field and rule. */
export function parseDetectRequest(body: unknown): DetectRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object');
  }
  const parsed = detectRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new InvalidRequestError(parsed.error.issues.map((i) => i.message).join('; '));
  }
  const { url, img, ...rest } = parsed.data;
  if (rest.callback_url !== undefined && !isHttpUrl(rest.callback_url)) {
    throw new InvalidRequestError("'callback_url' must be an http or https URL");
  }
  if (url !== undefined) {
    if (!isHttpUrl(url)) throw new InvalidRequestError(MESSAGES.invalidUrl);
    return { ...rest, media: 'url', url };
  }
  if (img !== undefined) return { ...rest, media: 'img', img };
  throw new InvalidRequestError(MESSAGES.missingMedia);
}

export function isHttpUrl(value: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname.length > 0;
}
