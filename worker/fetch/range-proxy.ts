import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../shared/errors/app-error.js';
import { DownloadFailedError, PayloadTooLargeError } from '../../shared/errors/errors.js';
import type { ByteLimit } from '../../shared/errors/byte-limit.js';
import { keepAliveAgents, type GuardedHttpClient } from './guarded-http-client.js';
import { checkPiece, ifRangeFor, type FileVersion } from './range-answer.js';

export interface RangeProxyOptions extends ByteLimit {
  /** The origin's URL once redirects were followed, and the version of the file its first answer was of. */
  url: string;
  version: FileVersion;
  /** Aborting it ends every transfer; the job's deadline. */
  signal: AbortSignal;
  /**
   * The file is read in aligned pieces of this size, and ffmpeg is answered at most one piece per request;
   * it asks again for the rest (its `reconnect` option). So it is never sent more than one piece beyond
   * what it reads, whereas an open-ended answer would fill the socket's buffers ahead of it.
   * @defaultValue 262144
   */
  pieceBytes?: number;
  /**
   * Pieces kept for ffmpeg's next reads, in bytes. Every ffmpeg process of a job reads the container's
   * index again (an hour of MP4 has a 1–2 MB one), so the same pieces come back.
   * @defaultValue 16777216
   */
  cacheBytes?: number;
}

/**
 * A loopback HTTP server that only ffmpeg talks to, for one video. Each read ffmpeg makes (it seeks with
 * `Range`) is served from pieces read through the guarded client, so the address rules and redirect checks
 * hold for every request, and all reads together stay within the job's byte budget. The origin must answer
 * each piece with exactly the range asked, of the version (validators and length) it first answered;
 * anything else ends the job.
 */
export class RangeProxy {
  /** Bytes received from the origin so far, over every request. */
  bytesRead = 0;
  /** Requests made to the origin so far. */
  private requests = 0;
  /** Sent with every piece, so that an origin that honours it answers another version whole (200). */
  private readonly ifRange: string | undefined;
  /** The first failure of the origin or of a limit; it explains why ffmpeg's read failed. */
  failure: AppError | undefined;
  readonly url: string;
  private readonly pieceBytes: number;
  private readonly maxRequests: number;
  /** Pieces read or being read, by index, oldest first, within `cacheBytes` together. */
  private readonly cache = new Map<number, Promise<Buffer>>();
  /** Connections to the origin are kept between pieces: over TLS, a handshake per piece would dominate. */
  private readonly agents = keepAliveAgents();
  /** Ends every read in progress, or read ahead, when the job ends or the proxy closes. */
  private readonly stopped = new AbortController();
  private readonly signal: AbortSignal;
  /** When a piece was last asked of the origin or answered by it: ffmpeg waiting on a slow origin looks hung. */
  lastOriginActivity = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly client: GuardedHttpClient,
    private readonly options: RangeProxyOptions,
    private readonly path: string,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${path}`;
    this.pieceBytes = options.pieceBytes ?? 256 * 1024;
    // Every byte of the budget, piece by piece, and no more.
    this.maxRequests = Math.ceil(options.bytes / this.pieceBytes) + 1;
    this.signal = AbortSignal.any([options.signal, this.stopped.signal]);
    this.ifRange = ifRangeFor(options.version);
  }

  static async open(client: GuardedHttpClient, options: RangeProxyOptions): Promise<RangeProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new RangeProxy(server, client, options, `/${randomUUID()}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void proxy.serve(req, res));
    return proxy;
  }

  async close(): Promise<void> {
    this.stopped.abort(new Error('the range proxy closed'));
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers one of ffmpeg's reads with the part of one piece that it starts in. */
  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const total = this.options.version.totalBytes;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? 'bytes=0-');
    if (req.method !== 'GET' || req.url !== this.path || !range) {
      res.writeHead(req.url === this.path ? 416 : 404).end();
      return;
    }
    // After a failure ffmpeg's reconnects must fail too, or it would keep asking.
    if (this.failure) {
      res.writeHead(502).end();
      return;
    }
    const start = Number(range[1]);
    if (start >= total) {
      res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
      return;
    }
    const index = Math.floor(start / this.pieceBytes);
    try {
      const piece = await this.piece(index);
      // ffmpeg reads on from here more often than not: the next piece is read while it takes this one.
      if ((index + 1) * this.pieceBytes < total && !this.signal.aborted) {
        void this.piece(index + 1).catch(() => undefined);
      }
      const from = start - index * this.pieceBytes;
      const asked = range[2] ? Number(range[2]) - start + 1 : Infinity;
      const body = piece.subarray(from, from + Math.min(asked, piece.length - from));
      res.writeHead(206, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        'content-range': `bytes ${start}-${start + body.length - 1}/${total}`,
        'accept-ranges': 'bytes',
      });
      res.end(body);
    } catch (err) {
      this.failure ??=
        err instanceof AppError ? err : new DownloadFailedError('range read failed', true, { cause: err });
      res.destroy();
    }
  }

  /** Re-reads and reads ahead count too: the budget bounds what the origin is asked for, not the file. */
  private overBudget(): PayloadTooLargeError {
    return new PayloadTooLargeError(
      `Reading the video by range took more than the ${this.options.bytes}-byte budget (${this.options.setting}); send a shorter video or fewer frames`,
    );
  }

  /** Piece `index` from the cache, or read once however many of ffmpeg's processes ask at the same time. */
  private piece(index: number): Promise<Buffer> {
    const cached = this.cache.get(index);
    if (cached) return cached;
    const first = index * this.pieceBytes;
    const last = Math.min(this.options.version.totalBytes, first + this.pieceBytes) - 1;
    const reading = this.fetchPiece(first, last);
    this.cache.set(index, reading);
    reading.catch(() => this.cache.delete(index));
    const limit = Math.max(1, Math.floor((this.options.cacheBytes ?? 16 * 1024 * 1024) / this.pieceBytes));
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= limit) break;
      this.cache.delete(oldest);
    }
    return reading;
  }

  /**
   * One piece, read whole before ffmpeg gets it, so the origin's connection is never held open while
   * ffmpeg decodes; it is at most `pieceBytes` long.
   */
  private async fetchPiece(first: number, last: number): Promise<Buffer> {
    if (++this.requests > this.maxRequests) throw this.overBudget();
    const length = last - first + 1;
    this.lastOriginActivity = Date.now();
    return this.client.withDeadline(this.client.stallTimeoutMs, this.signal, async (transfer) => {
      const { response } = await this.client.get(
        this.options.url,
        {
          range: `bytes=${first}-${last}`,
          'accept-encoding': 'identity',
          ...(this.ifRange ? { 'if-range': this.ifRange } : {}),
        },
        transfer,
        this.agents,
      );
      try {
        checkPiece(response, this.options.version, first, last);
        const piece = Buffer.allocUnsafe(length);
        let filled = 0;
        for await (const chunk of response as AsyncIterable<Buffer>) {
          if (filled + chunk.length > length)
            throw new DownloadFailedError('the origin sent more than asked', false);
          chunk.copy(piece, filled);
          filled += chunk.length;
          this.bytesRead += chunk.length;
          this.lastOriginActivity = Date.now();
          if (this.bytesRead > this.options.bytes) throw this.overBudget();
        }
        if (filled < length)
          throw new DownloadFailedError('connection closed before the body was complete', true);
        return piece;
      } finally {
        // A body read to its end leaves the connection to the agent for the next piece.
        if (!response.complete) response.destroy();
      }
    });
  }
}
