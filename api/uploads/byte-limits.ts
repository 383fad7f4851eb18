import { PayloadTooLargeError } from '../../shared/errors/errors.js';

/** A byte limit and the setting it comes from, which answers name. */
export interface ByteLimit {
  bytes: number;
  setting: string;
}

export const tooLarge = (what: string, limit: ByteLimit) =>
  new PayloadTooLargeError(
    `${what} is larger than the ${limit.bytes}-byte limit (${limit.setting}); send a smaller image or use 'url'`,
  );

export const declaredTooLarge = (declared: number | undefined, limit: ByteLimit) =>
  new PayloadTooLargeError(
    `The body declares ${declared} bytes (Content-Length), above the ${limit.bytes}-byte limit (${limit.setting}); send a smaller image or use 'url'`,
  );
