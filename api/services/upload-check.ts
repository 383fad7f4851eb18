import { IMAGE_FORMATS_HINT } from '../../shared/media/image-formats.js';
import { InvalidRequestError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import { looksLikeText } from '../../shared/media/looks-like-text.js';
import { sniffMedia, type SniffedMedia } from '../../shared/media/media-sniffer.js';
import type { ImageUpload } from '../validation/detect-request.schema.js';

/**
 * Refuses an upload that is not an image before it reaches Redis. The bytes decide, not the declared
 * type: curl and browsers take a part's type from the file name, and a `.jpg` that holds a PNG is common
 * and harmless, since the worker decodes whatever the bytes are. Bytes that are no image we decode are
 * refused naming both what was declared and what was found.
 */
export async function checkUpload({ bytes, declaredType, name }: ImageUpload): Promise<Buffer> {
  if (bytes.length === 0) throw new InvalidRequestError(`${name} is empty; send the image's bytes`);
  const sniffed = await sniffMedia(bytes);
  if (sniffed.kind === 'image') return bytes;
  if (sniffed.kind === 'video') {
    throw new UnsupportedMediaError(
      `${name} is declared ${declaredType} but holds a ${sniffed.format} video; videos are accepted by 'url' only: host the file and send its URL`,
    );
  }
  throw new UnsupportedMediaError(
    `${name} is declared ${declaredType} but holds ${describe(bytes, sniffed)}, not an image in a supported format; ${IMAGE_FORMATS_HINT}`,
  );
}

/** What bytes that are no supported image are, for the message: a named type, text, or neither. */
function describe(bytes: Buffer, sniffed: SniffedMedia & { kind: 'unknown' }): string {
  if (sniffed.mime) return `${sniffed.mime} data`;
  return looksLikeText(bytes) ? 'text' : 'data of no known format';
}
