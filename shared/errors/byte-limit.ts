import { PayloadTooLargeError } from './errors.js';

/** A byte limit and the setting it comes from, which refusals name so an operator knows what to raise. */
export interface ByteLimit {
  bytes: number;
  setting: string;
}

/** The one wording of every refusal for size: what was too large, the limit, its setting, what to do. */
export function tooLarge(what: string, limit: ByteLimit, advice: string, detail = ''): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `${what} is larger than the ${limit.bytes}-byte limit (${limit.setting})${detail}; ${advice}`,
  );
}
