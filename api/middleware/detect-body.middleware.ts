import type { Request, RequestHandler } from 'express';
import { InvalidRequestError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import type { ByteLimit } from '../uploads/byte-limits.js';
import { readCodedJson } from '../uploads/coded-json.js';
import { contentCodingOf } from '../uploads/content-decoding.js';
import { readMultipart, readRawBody, type ReceivedUpload } from '../uploads/upload-readers.js';
import { readMultipartForm, type FilePolicy, type ReceivedForm } from '../uploads/multipart-form.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** An image sent as the body or as a multipart part, with its options; absent for JSON. */
    upload?: ReceivedUpload;
    /** A batch's images sent as multipart file parts, with the options for all of them. */
    batchUpload?: ReceivedForm;
  }
}

export interface DetectBodyLimits {
  /** MAX_IMAGE_BYTES: the image, however it comes. */
  maxImageBytes: number;
  /** MAX_BODY_BYTES: the whole request body. */
  maxBodyBytes: number;
  /** Set for POST /detect/batch: file parts a form may hold (MAX_BATCH_ITEMS). */
  batchItems?: number;
}

type BodyForm = 'raw' | 'multipart' | 'video' | 'json';

/** The media type of the Content-Type header, without its parameters, lowercased. */
function mediaTypeOf(req: Request): string {
  return (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * How a detect body is read, by its declared type. Anything not an upload is read as JSON, whatever it
 * declares, as the original API did.
 */
function formOf(mediaType: string): BodyForm {
  if (mediaType.startsWith('image/') || mediaType === 'application/octet-stream') return 'raw';
  if (mediaType === 'multipart/form-data') return 'multipart';
  if (mediaType.startsWith('video/')) return 'video';
  return 'json';
}

/**
 * Reads the body of a detect request, once: JSON into `req.body` (by `json` when sent plain), an uploaded image into
 * `req.upload` with the query parameters (and form fields) as its options. Runs after authentication, the
 * rate limit and the body budget, so a client they refuse has none of its body read; a client that waits
 * for `100 Continue` gets it only here. A body in a content coding is inflated, every limit counting its
 * inflated bytes; a coding the gateway does not decode is refused, for JSON too, before the body is read.
 */
export function detectBody(limits: DetectBodyLimits, json: RequestHandler): RequestHandler {
  const image: ByteLimit = { bytes: limits.maxImageBytes, setting: 'MAX_IMAGE_BYTES' };
  const body: ByteLimit = { bytes: limits.maxBodyBytes, setting: 'MAX_BODY_BYTES' };
  // A raw body is the image, so the tighter limit of the two binds it.
  const raw = image.bytes <= body.bytes ? image : body;
  const batchFiles = limits.batchItems === undefined ? undefined : batchFilePolicy(limits.batchItems);
  return async (req, res, next) => {
    const mediaType = mediaTypeOf(req);
    const form = formOf(mediaType);
    const coding = contentCodingOf(req);
    if (form === 'video') {
      throw new UnsupportedMediaError(
        `The body is declared ${mediaType}; videos are accepted by 'url' only: host the file and send its URL`,
      );
    }
    if (req.get('expect')?.toLowerCase() === '100-continue') res.writeContinue();
    if (form === 'json') {
      if (!coding) return json(req, res, next);
      req.body = await readCodedJson(req, coding, body);
      return next();
    }
    const query = [...new URL(req.originalUrl, 'http://localhost').searchParams];
    if (batchFiles) {
      if (form === 'raw') throw new InvalidRequestError(BATCH_FORMS);
      req.batchUpload = await readMultipartForm(req, { file: image, body }, batchFiles, query, coding);
      return next();
    }
    req.upload =
      form === 'raw'
        ? {
            image: {
              bytes: await readRawBody(req, raw, coding && { name: coding, wire: body }),
              declaredType: mediaType,
              name: 'The body',
            },
            fields: query,
          }
        : await readMultipart(req, { file: image, body }, query, coding);
    next();
  };
}

const BATCH_FORMS =
  'A batch is sent as JSON, {"items": [{"url" | "img", ...options}], ...options for every item}, or as multipart/form-data with one file part named \'file\' per image';

/** A batch's parts: each one an item, so a part over MAX_IMAGE_BYTES fails alone, as a bad item does. */
function batchFilePolicy(maxItems: number): FilePolicy {
  return {
    maxFiles: maxItems,
    tooMany: () =>
      new InvalidRequestError(
        `More than ${maxItems} file parts; at most ${maxItems} per batch (MAX_BATCH_ITEMS)`,
      ),
    oversized: 'part',
    name: (index) => `The 'file' part #${index + 1}`,
  };
}
