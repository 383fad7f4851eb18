import { PayloadTooLargeError } from '../../shared/errors/errors.js';
import { tooLarge as refusal, type ByteLimit } from '../../shared/errors/byte-limit.js';

export type { ByteLimit };

/** What a client sending an image in the request can do instead. */
export const UPLOAD_ADVICE = "send a smaller image or use 'url'";

export const tooLarge = (what: string, limit: ByteLimit, detail?: string) =>
  refusal(what, limit, UPLOAD_ADVICE, detail);

export const declaredTooLarge = (declared: number | undefined, limit: ByteLimit) =>
  new PayloadTooLargeError(
    `The body declares ${declared} bytes (Content-Length), above the ${limit.bytes}-byte limit (${limit.setting}); ${UPLOAD_ADVICE}`,
  );
