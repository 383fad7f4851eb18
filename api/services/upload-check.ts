import { IMAGE_FORMATS_HINT } from '../../shared/media/image-formats.js';
import { fileTypeFromBuffer } from 'file-type';
import { InvalidRequestError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import { sniffMedia } from '../../shared/media/media-sniffer.js';
import type { ImageUpload } from '../validation/detect-request.schema.js';

const HEAD_BYTES = 512;

/**
 * Refuses an upload that is not an image before it reaches Redis. The bytes decide, not the declared
 * type: curl and browsers take a part's type from the file name, and a `.jpg` that holds a PNG is common
 * and harmless, since the worker decodes whatever the bytes are. Bytes that are no image we decode are
 * refused naming both what was declared and what was found.
 */
export async function checkUpload({ bytes, declaredType, name }: ImageUpload): Promise<Buffer> {
  if (bytes.length === 0) throw new InvalidRequestError(`${name} is empty; send the image's bytes`);
  const sniffed = sniffMedia(bytes);
  if (sniffed.kind === 'image') return bytes;
  if (sniffed.kind === 'video') {
    throw new UnsupportedMediaError(
      `${name} is declared ${declaredType} but holds a ${sniffed.format} video; videos are accepted by 'url' only: host the file and send its URL`,
    );
  }
  throw new UnsupportedMediaError(
    `${name} is declared ${declaredType} but holds ${await describe(bytes)}, not an image in a supported format; ${IMAGE_FORMATS_HINT}`,
  );
}

/** What bytes that are no supported image are, for the message: a named type, text, or neither. */
async function describe(bytes: Buffer): Promise<string> {
  const type = await fileTypeFromBuffer(bytes);
  if (type) return `${type.mime} data`;
  return looksLikeText(bytes.subarray(0, HEAD_BYTES)) ? 'text' : 'data of no known format';
}

/** UTF-8 without control characters other than whitespace; a character cut at the end still counts. */
function looksLikeText(head: Buffer): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  return !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text);
}
