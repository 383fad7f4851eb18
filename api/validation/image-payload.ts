import { UPLOAD_ADVICE } from '../uploads/byte-limits.js';
import { InvalidRequestError, PayloadTooLargeError } from '../../shared/errors/errors.js';

export interface ImagePayload {
  bytes: Buffer;
  /** The MIME type a data URI declared, if any. */
  declaredType?: string;
}

const DATA_URI = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)?((?:;[a-z0-9-]+=[^;,]*)*)(;base64)?,/i;
// Searches for one character outside the alphabet: an anchored `^[…]*={0,2}$` is several times slower in
// V8, on the gateway's only thread (figures: BENCHMARKS.md, "Measured behind the code").
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
const NOT_BASE64URL = /[^A-Za-z0-9_=-]/;

/**
 * Parses the `img` field: plain base64 (standard or URL-safe alphabet, whitespace ignored) or a base64
 * data URI. The size is checked from the length before anything is decoded.
 */
export function parseImagePayload(img: string, maxBytes: number): ImagePayload {
  let body = img;
  let declaredType: string | undefined;
  const uri = DATA_URI.exec(img);
  if (uri) {
    if (!uri[3])
      throw new InvalidRequestError(
        "'img' is a data URI without ';base64'; only base64 data URIs are accepted",
      );
    declaredType = uri[1]?.toLowerCase();
    body = img.slice(uri[0].length);
  } else if (/^data:/i.test(img)) {
    throw new InvalidRequestError(
      "'img' is not a valid data URI; use data:image/<type>;base64,<data> or plain base64",
    );
  }
  // Most clients send base64 without line breaks: stripping is only worth a pass over the data when the
  // alphabet check finds a character outside it.
  let encoding = alphabetOf(body);
  if (!encoding) {
    body = body.replace(/\s+/g, '');
    encoding = alphabetOf(body);
  }
  if (body.length === 0) throw new InvalidRequestError("'img' is empty; send the image as base64");
  if (!encoding || body.length % 4 === 1) {
    throw new InvalidRequestError(
      "'img' is not valid base64: it contains characters outside the base64 alphabet or is cut short",
    );
  }
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  const size = Math.floor((body.length * 3) / 4) - padding;
  if (size > maxBytes) {
    throw new PayloadTooLargeError(
      `'img' decodes to ${size} bytes, above the ${maxBytes}-byte limit (MAX_IMAGE_BYTES); ${UPLOAD_ADVICE}`,
    );
  }
  return { bytes: Buffer.from(body, encoding), declaredType };
}

/**
 * The alphabet `body` is written in; undefined when it is not base64: a character outside both alphabets,
 * a mix of the two, or `=` anywhere but as 1–2 characters at the end.
 */
function alphabetOf(body: string): 'base64' | 'base64url' | undefined {
  const pad = body.indexOf('=');
  if (pad >= 0 && (pad < body.length - 2 || (pad === body.length - 2 && body[pad + 1] !== '=')))
    return undefined;
  if (!NOT_BASE64.test(body)) return 'base64';
  if (!NOT_BASE64URL.test(body)) return 'base64url';
  return undefined;
}
