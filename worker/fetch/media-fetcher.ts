import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { DownloadFailedError } from '../../shared/errors/errors.js';
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

export interface FetchedBuffer {
  bytes: Buffer;
  contentType: string | undefined;
  finalUrl: string;
}

export interface FetchedFile {
  bytes: number;
  contentType: string | undefined;
  finalUrl: string;
}

/**
 * When to read a URL by range instead of downloading it: its origin serves ranges, it is at least
 * `minBytes` long, and its first bytes pass `accept` (they look like a video).
 */
interface RangeReadRule {
  minBytes: number;
  accept(head: Buffer): boolean;
}

/** A URL to read by range: its final address after redirects, and the version of the file first answered. */
export interface RangedMedia {
  ranged: true;
  version: FileVersion;
  finalUrl: string;
}

/** A fetch stopped by `stopAt` after the media's first bytes, having written nothing. */
export interface StoppedAtHead {
  stopped: true;
}

/** Rules applied to a URL's first bytes before the rest is fetched. */
export interface HeadRules {
  rangeRead: RangeReadRule;
  /**
   * Sees the first bytes (those of the range probe, or the head of a body sent whole) before anything is
   * written: true stops the fetch there, so a body that belongs elsewhere is not downloaded.
   */
  stopAt?: (head: Buffer) => boolean;
}

/** Bytes looked at to decide whether to read by range: enough to recognise any container. */
const HEAD_BYTES = 4096;

/** Thrown through the body's pipeline to stop it at its head; never leaves the fetcher. */
class StopAtHead extends Error {}

/** Downloads of user-supplied URLs, through the guarded client, bounded in bytes and time. */
export class MediaFetcher {
  readonly client: GuardedHttpClient;
  private readonly timeoutMs: number;

  constructor(options: MediaFetcherOptions = {}) {
    this.client = new GuardedHttpClient(options);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async fetchBuffer(url: string, limits: FetchLimits): Promise<FetchedBuffer> {
    return this.client.withDeadline(this.timeoutMs, limits.signal, async (transfer) => {
      const { response, decoder, finalUrl } = await this.open(url, limits, transfer);
      const chunks: Buffer[] = [];
      const collect = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      });
      await pipeline(response, decoder, limitBytes(limits), collect);
      return { bytes: Buffer.concat(chunks), contentType: response.headers['content-type'], finalUrl };
    });
  }

  /**
   * Streams the body to `filePath`, so a video never sits in memory; a failed fetch leaves no file. With a
   * `rangeRead` rule the origin is first asked for the file's first bytes; a large video from an origin that
   * serves ranges is then left for reading by range instead of downloaded.
   */
  async fetchToFile(url: string, filePath: string, limits: FetchLimits): Promise<FetchedFile>;
  async fetchToFile(
    url: string,
    filePath: string,
    limits: FetchLimits & HeadRules,
  ): Promise<FetchedFile | RangedMedia | StoppedAtHead>;
  async fetchToFile(
    url: string,
    filePath: string,
    limits: FetchLimits & Partial<HeadRules>,
  ): Promise<FetchedFile | RangedMedia | StoppedAtHead> {
    let file: WriteStream | undefined;
    try {
      return await this.client.withDeadline(this.timeoutMs, limits.signal, async (transfer) => {
        const opened = await this.openOrRange(url, limits, transfer);
        if (!('response' in opened)) return opened;
        const { response, decoder, finalUrl } = opened;
        file = createWriteStream(filePath);
        const gate = limits.stopAt ? headGate(limits.stopAt) : new PassThrough();
        await pipeline(response, decoder, limitBytes(limits), gate, file);
        return { bytes: file.bytesWritten, contentType: response.headers['content-type'], finalUrl };
      });
    } catch (err) {
      if (file) {
        // Unlinking before the stream has closed could race its pending open and leave the file behind.
        const closing = file;
        if (!closing.closed) await new Promise<void>((resolve) => closing.once('close', () => resolve()));
        await rm(filePath, { force: true });
      }
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
    if (head && limits.stopAt?.(head)) return { stopped: true };
    if (version && head && version.totalBytes >= rangeRead.minBytes && rangeRead.accept(head)) {
      return { ranged: true, version, finalUrl };
    }
    // Small, not a video, or an odd answer: the plain body, in a second request.
    return this.open(finalUrl, limits, transfer);
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

/**
 * Holds back a body's first HEAD_BYTES (all of a shorter body) until `stopAt` has seen them, for an origin
 * that ignored the probe's Range and sent the whole file: a true answer stops the transfer there.
 */
function headGate(stopAt: (head: Buffer) => boolean): Transform {
  let held: Buffer[] = [];
  let length = 0;
  let passed = false;
  const release = (callback: (err?: Error | null, data?: Buffer) => void) => {
    const head = Buffer.concat(held);
    held = [];
    passed = true;
    if (stopAt(head.subarray(0, HEAD_BYTES))) callback(new StopAtHead());
    else callback(null, head);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (passed) return callback(null, chunk);
      held.push(chunk);
      length += chunk.length;
      if (length < HEAD_BYTES) return callback();
      release(callback);
    },
    flush(callback) {
      if (passed) callback();
      else release(callback);
    },
  });
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
