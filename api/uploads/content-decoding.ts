import type { Request } from 'express';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { InvalidRequestError, UnsupportedEncodingError } from '../../shared/errors/errors.js';
import type { AppError } from '../../shared/errors/app-error.js';
import { declaredTooLarge, tooLarge, type ByteLimit } from './byte-limits.js';

/** The content codings the gateway inflates: those express.json inflates too, so every body takes the same. */
const DECODERS = { gzip: createGunzip, deflate: createInflate, br: createBrotliDecompress } as const;
export type ContentCoding = keyof typeof DECODERS;

const isCoding = (name: string): name is ContentCoding => Object.hasOwn(DECODERS, name);

/**
 * The body's content coding from its Content-Encoding: undefined for none (or `identity`), else one the
 * gateway inflates. Anything else, several codings stacked included, is refused with a 415 naming it,
 * before a byte of the body is read.
 */
export function contentCodingOf(req: Request): ContentCoding | undefined {
  const header = req.get('content-encoding');
  const coding = (header ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return undefined;
  if (isCoding(coding)) return coding;
  throw new UnsupportedEncodingError(
    `The body's Content-Encoding '${(header ?? '').slice(0, 60)}' is not accepted; send the body uncompressed, or in one of gzip, deflate or br`,
  );
}

/** A request's body being inflated, and how to let go of it. */
export interface DecodedBody {
  stream: Readable;
  /** The 400 naming `what` when `err` is the decoder's own: the body is not what its Content-Encoding says. */
  corruption(err: unknown, what: string): AppError | undefined;
  /** Stops reading and inflating, whatever the state; the request is left paused, not destroyed. */
  close(): void;
}

/**
 * Inflates a request's body as its coding says. The bytes on the wire are bounded by `wire` as they come,
 * whatever they inflate to (a deflate stream can go on forever and inflate to nothing); the inflated bytes
 * are for the reader to bound, and as it stops reading, inflating stops too, a buffer or two later.
 */
export function decodeBody(req: Request, coding: ContentCoding, wire: ByteLimit): DecodedBody {
  const declared = Number(req.get('content-length'));
  if (declared > wire.bytes) throw declaredTooLarge(declared, wire);
  const decoder: Transform = DECODERS[coding]();
  let received = 0;
  let stopped = false;
  let own: unknown;
  decoder.on('error', (err) => {
    if (!stopped) own ??= err;
  });
  const detach = () => {
    req.off('data', count);
    req.off('close', aborted);
    req.unpipe(decoder);
    req.pause();
  };
  const stop = (err: AppError) => {
    detach();
    stopped = true;
    decoder.destroy(err);
  };
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received > wire.bytes) stop(tooLarge(`The ${coding} body`, wire, ' as sent'));
  };
  // A client gone mid-body never ends the request, and so never the decoder: end it here.
  const aborted = () => {
    if (!req.complete) stop(new InvalidRequestError('The client aborted the upload'));
  };
  req.on('data', count);
  req.once('close', aborted);
  req.pipe(decoder);
  return {
    stream: decoder,
    corruption: (err, what) => (err !== undefined && err === own ? corruptBody(coding, what) : undefined),
    close: () => {
      detach();
      decoder.destroy();
    },
  };
}

/** The 400 for a body that does not inflate as its Content-Encoding says. */
const corruptBody = (coding: ContentCoding, what: string) =>
  new InvalidRequestError(
    `${what} is not valid ${coding} data, as its Content-Encoding says; send it uncompressed or encoded as declared`,
  );
