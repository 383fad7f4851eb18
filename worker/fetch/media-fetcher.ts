import type { IncomingMessage } from 'node:http';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { DownloadFailedError } from '../../shared/errors/errors.js';
import { sniffMedia, type SniffedMedia } from '../../shared/media/media-sniffer.js';
import {
  BodySink,
  HEAD_BYTES,
  IN_MEMORY,
  StopAtHead,
  type BodyTarget,
  type StoredBody,
} from './body-sink.js';
import { mediaTooLarge } from './fetch-errors.js';
import type { ByteLimit } from '../../shared/errors/byte-limit.js';
import { GuardedHttpClient, type GuardedHttpClientOptions } from './guarded-http-client.js';
import { versionOf, type FileVersion } from './range-answer.js';

export interface MediaFetcherOptions extends GuardedHttpClientOptions {
  /** Budget for a whole fetch: DNS, connecting, every redirect and the body. @defaultValue 30000 */
  timeoutMs?: number;
}

export interface FetchLimits extends ByteLimit {
  /** Aborting it stops the fetch at once; the fetch then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A body fetched whole: in memory or in a file (see `BodyTarget`), with what its first bytes are. */
export type FetchedMedia = StoredBody & { contentType: string | undefined; finalUrl: string };

/**
 * When to read a URL by range instead of downloading it: its origin serves ranges, it is at least
 * `minBytes` long, and its first bytes are accepted (they are a video).
 */
interface RangeReadRule {
  minBytes: number;
  accept(sniffed: SniffedMedia): boolean;
}

/** A URL to read by range: its final address after redirects, what its first bytes are, and its version. */
export interface RangedMedia {
  ranged: true;
  sniffed: SniffedMedia;
  version: FileVersion;
  finalUrl: string;
}

/** A fetch stopped by `stopAt` after the media's first bytes, having kept nothing. */
export interface StoppedAtHead {
  stopped: true;
}

/** What a fetch under head rules answers: the body fetched whole, a URL to read by range, or a stop at its head. */
export type FetchAnswer = FetchedMedia | RangedMedia | StoppedAtHead;

/** Rules applied to a URL's first bytes, sniffed once, before the rest is fetched. */
export interface HeadRules {
  rangeRead: RangeReadRule;
  /**
   * Sees what the first bytes are (those of the range probe, or the head of a body sent whole) before
   * anything is kept: true stops the fetch there, so a body that belongs elsewhere is not downloaded.
   */
  stopAt?: (sniffed: SniffedMedia) => boolean;
  /** Where the body goes; all of it in memory when absent. */
  target?: BodyTarget;
}

/** Downloads of user-supplied URLs, through the guarded client, bounded in bytes and time. */
export class MediaFetcher {
  readonly client: GuardedHttpClient;
  private readonly timeoutMs: number;

  constructor(options: MediaFetcherOptions = {}) {
    this.client = new GuardedHttpClient(options);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Fetches a body into memory or a file, as `target` says; a failed fetch leaves no file. With a
   * `rangeRead` rule the origin is first asked for the file's first bytes; a large video from an origin that
   * serves ranges is then left for reading by range instead of downloaded.
   */
  async fetch(url: string, limits: FetchLimits): Promise<FetchedMedia & { bytes: Buffer }>;
  async fetch(
    url: string,
    limits: FetchLimits & { target: BodyTarget; rangeRead?: undefined; stopAt?: undefined },
  ): Promise<FetchedMedia>;
  async fetch(url: string, limits: FetchLimits & Partial<HeadRules>): Promise<FetchAnswer>;
  async fetch(url: string, limits: FetchLimits & Partial<HeadRules>): Promise<FetchAnswer> {
    let sink: BodySink | undefined;
    try {
      return await this.client.withDeadline(this.timeoutMs, limits.signal, async (transfer) => {
        const opened = await this.openOrRange(url, limits, transfer);
        if (!('response' in opened)) return opened;
        const { response, decoder, finalUrl, sniffed } = opened;
        sink = new BodySink(limits.target ?? IN_MEMORY, limits.stopAt, sniffed);
        await pipeline(response, decoder, limitBytes(limits), sink);
        return { ...sink.stored(), contentType: response.headers['content-type'], finalUrl };
      });
    } catch (err) {
      await sink?.discard();
      if (err instanceof StopAtHead) return { stopped: true };
      throw err;
    }
  }

  /**
   * A whole-file answer to download, or the decision to read by range. Only the first bytes are asked
   * for: an open-ended range would have the origin push a socket's worth of the file before we could stop
   * it. An origin that ignores Range answers with the whole file, downloaded from that one answer.
   */
  private async openOrRange(
    url: string,
    limits: ByteLimit & Partial<HeadRules>,
    transfer: AbortController,
  ): Promise<Opened | RangedMedia | StoppedAtHead> {
    const { rangeRead } = limits;
    if (!rangeRead) return this.open(url, limits, transfer);
    const { response, finalUrl } = await this.client.get(
      url,
      { range: `bytes=0-${HEAD_BYTES - 1}` },
      transfer,
    );
    if (response.statusCode !== 206) return this.checked(response, finalUrl, limits);
    const version = versionOf(response, 0);
    const head = version ? await firstBytes(response, HEAD_BYTES) : undefined;
    response.destroy();
    if (!version || !head) return this.open(finalUrl, limits, transfer);
    // The whole body that may follow is the same file: what its head is is known now, not sniffed again.
    const sniffed = await sniffMedia(head);
    if (limits.stopAt?.(sniffed)) return { stopped: true };
    if (version.totalBytes >= rangeRead.minBytes && rangeRead.accept(sniffed)) {
      return { ranged: true, sniffed, version, finalUrl };
    }
    // Small, not a video: the plain body, in a second request.
    return { ...(await this.open(finalUrl, limits, transfer)), sniffed };
  }

  private async open(url: string, limits: ByteLimit, transfer: AbortController): Promise<Opened> {
    const { response, finalUrl } = await this.client.get(url, {}, transfer);
    return this.checked(response, finalUrl, limits);
  }

  private checked(response: IncomingMessage, finalUrl: string, limits: ByteLimit): Opened {
    try {
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        throw new DownloadFailedError(`HTTP ${status}`, status >= 500 || status === 429);
      }
      const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      // A compressed body may legitimately be smaller on the wire than the limit, so only an
      // uncompressed declared length says anything about the decoded size.
      if (encoding === 'identity' && Number(response.headers['content-length']) > limits.bytes) {
        throw mediaTooLarge(limits);
      }
      return { response, decoder: decoderFor(encoding), finalUrl };
    } catch (err) {
      response.destroy();
      throw err;
    }
  }
}

interface Opened {
  response: IncomingMessage;
  decoder: Transform;
  finalUrl: string;
  /** What the range probe found the body's head to be. */
  sniffed?: SniffedMedia;
}

/** Reads up to `bytes` of a body (less if it ends first), leaving the rest unread. */
async function firstBytes(stream: IncomingMessage, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= bytes) break;
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** The server may compress even though no Accept-Encoding was sent; the limit applies after decoding. */
function decoderFor(encoding: string): Transform {
  switch (encoding) {
    case 'identity':
      return new PassThrough();
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      throw new DownloadFailedError('unsupported Content-Encoding', false);
  }
}

/** Counts bytes as they stream, since Content-Length can lie or be absent. */
function limitBytes(limits: ByteLimit): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      callback(total > limits.bytes ? mediaTooLarge(limits) : null, chunk);
    },
  });
}
