import type { Request } from 'express';
import getRawBody from 'raw-body';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import type { ImageUpload } from '../validation/detect-request.schema.js';
import { declaredTooLarge, tooLarge, type ByteLimit } from './byte-limits.js';
import { decodeBody, type ContentCoding } from './content-decoding.js';
import { readMultipartForm, type FilePolicy, type MultipartLimits } from './multipart-form.js';

/** An uploaded image and the options sent with it, as `[name, value]` in the order sent. */
export interface ReceivedUpload {
  image: ImageUpload;
  fields: [string, string][];
}

/**
 * Reads a raw body into one Buffer. A Content-Length above the limit is refused before a byte is read; a
 * body without one is counted as it streams and refused the moment it passes the limit. A body with a
 * content coding counts against `limit` inflated, and against `wire` as sent. `what` names it in refusals.
 */
export async function readRawBody(
  req: Request,
  limit: ByteLimit,
  coding?: { name: ContentCoding; wire: ByteLimit },
  what = 'The body',
): Promise<Buffer> {
  if (!coding) {
    try {
      return await getRawBody(req, { length: req.get('content-length'), limit: limit.bytes });
    } catch (err) {
      throw rawBodyError(err, limit, what);
    }
  }
  const decoded = decodeBody(req, coding.name, coding.wire);
  try {
    return await getRawBody(decoded.stream, { limit: limit.bytes });
  } catch (err) {
    throw decoded.corruption(err, what) ?? rawBodyError(err, limit, `${what}, inflated,`);
  } finally {
    decoded.close();
  }
}

function rawBodyError(err: unknown, limit: ByteLimit, what: string): unknown {
  const { type, expected, received } = err as { type?: string; expected?: number; received?: number };
  if (type === 'entity.too.large') {
    return received === undefined ? declaredTooLarge(expected, limit) : tooLarge(what, limit);
  }
  if (type === 'request.size.invalid') {
    return new InvalidRequestError(
      `The body is ${received} bytes but its Content-Length says ${expected}; send the Content-Length of the image`,
    );
  }
  if (type === 'request.aborted') return new InvalidRequestError('The client aborted the upload');
  return err;
}

const SINGLE_FILE: FilePolicy = {
  maxFiles: 1,
  tooMany: () => new InvalidRequestError("More than one file part; send exactly one, named 'file'"),
  oversized: 'form',
  name: () => "The 'file' part",
};

/** Reads a multipart/form-data body holding exactly one file part named `file`, and options as fields. */
export async function readMultipart(
  req: Request,
  limits: MultipartLimits,
  query: [string, string][],
  coding?: ContentCoding,
): Promise<ReceivedUpload> {
  const { parts, fields } = await readMultipartForm(req, limits, SINGLE_FILE, query, coding);
  const [image] = parts as [ImageUpload];
  return { image, fields };
}
