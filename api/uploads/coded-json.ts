import type { Request } from 'express';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import type { ByteLimit } from './byte-limits.js';
import type { ContentCoding } from './content-decoding.js';
import { readRawBody } from './upload-readers.js';

const WHAT = 'The request body';
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/**
 * Reads a JSON body that comes in a content coding, bounded by `limit` both inflated and as sent, as raw
 * and form bodies are. Not by express.json: it bounds only the inflated bytes, and past its limit reads the
 * rest of the body anyway, so a body that inflates to nothing would be read until BODY_TIMEOUT_MS. An empty
 * body is `{}`, and the refusals read as express.json's do (see the error handler).
 */
export async function readCodedJson(req: Request, coding: ContentCoding, limit: ByteLimit): Promise<unknown> {
  const charset = CHARSET.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw new InvalidRequestError(`${WHAT} must be UTF-8 JSON`);
  const text = (await readRawBody(req, limit, { name: coding, wire: limit }, WHAT)).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidRequestError(`${WHAT} is not valid JSON`);
  }
}
