import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../shared/errors/app-error.js';
import { DownloadFailedError } from '../../shared/errors/errors.js';
import { tooLarge, type ByteLimit } from './fetch-errors.js';
import type { GuardedHttpClient } from './guarded-http-client.js';
import { contentRangeTotal } from './media-fetcher.js';

export interface RangeProxyOptions extends ByteLimit {
  /** The origin's URL once redirects were followed, and its length as a 206 answer stated it. */
  url: string;
  totalBytes: number;
  /** Aborting it ends every transfer; the job's deadline. */
  signal: AbortSignal;
  /**
   * Bytes asked of the origin for the first piece of each of ffmpeg's reads; each further piece of the same
   * read is twice as large, up to 16 times this. ffmpeg reads an open-ended range and stops when it has
   * what it needs, often after a few kilobytes before it seeks again; asking in pieces, each only once the
   * previous one was taken, keeps what is read beyond that to about one piece, while long reads still
   * take few requests.
   * @defaultValue 65536
   */
  chunkBytes?: number;
}

/**
 * A loopback HTTP server that only ffmpeg talks to, for one video. Each read ffmpeg makes (it seeks with
 * `Range`) is forwarded in pieces through the guarded client, so the address rules and redirect checks
 * hold for every request, and all reads together stay within the job's byte budget. The origin must answer
 * each piece with exactly the range asked, of the length it first stated; anything else ends the job.
 */
export class RangeProxy {
  /** Bytes received from the origin so far, over every request. */
  bytesRead = 0;
  /** Requests made to the origin so far. */
  requests = 0;
  /** The first failure of the origin or of a limit; it explains why ffmpeg's read failed. */
  failure: AppError | undefined;
  readonly url: string;
  private readonly chunkBytes: number;
  private readonly maxRequests: number;

  private constructor(
    private readonly server: http.Server,
    private readonly client: GuardedHttpClient,
    private readonly options: RangeProxyOptions,
    private readonly path: string,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${path}`;
    this.chunkBytes = options.chunkBytes ?? 64 * 1024;
    // Every byte of the budget read in pieces, plus the reads of ffmpeg's many seeks.
    this.maxRequests = Math.ceil(options.maxBytes / this.chunkBytes) + 2000;
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
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const total = this.options.totalBytes;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? 'bytes=0-');
    if (req.method !== 'GET' || req.url !== this.path || !range) {
      res.writeHead(req.url === this.path ? 416 : 404).end();
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(total - 1, range[2] ? Number(range[2]) : total - 1);
    if (start > end) {
      res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
      return;
    }
    res.writeHead(206, {
      'content-type': 'application/octet-stream',
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${total}`,
      'accept-ranges': 'bytes',
    });
    try {
      for (let at = start, piece = this.chunkBytes; at <= end && !res.destroyed; at += piece, piece *= 2) {
        piece = Math.min(piece, this.chunkBytes * 16);
        await this.forward(at, Math.min(end, at + piece - 1), res);
      }
      res.end();
    } catch (err) {
      this.failure ??=
        err instanceof AppError ? err : new DownloadFailedError('range read failed', true, { cause: err });
      res.destroy();
    }
  }

  /** Copies one piece from the origin into `res`, then waits for ffmpeg to take it before the next. */
  private async forward(first: number, last: number, res: ServerResponse): Promise<void> {
    const piece = await this.fetchPiece(first, last);
    if (res.destroyed || res.write(piece)) return;
    await new Promise<void>((resolve) => {
      res.once('drain', resolve);
      res.once('close', resolve);
    });
  }

  /**
   * One piece, read whole before ffmpeg gets it, so the origin's connection is never held open while
   * ffmpeg decodes; it is at most `chunkBytes` long.
   */
  private async fetchPiece(first: number, last: number): Promise<Buffer> {
    if (++this.requests > this.maxRequests) {
      throw new DownloadFailedError(`more than ${this.maxRequests} range requests for one video`, false);
    }
    const length = last - first + 1;
    return this.client.withDeadline(this.client.stallTimeoutMs, this.options.signal, async (transfer) => {
      const { response } = await this.client.get(
        this.options.url,
        { range: `bytes=${first}-${last}`, 'accept-encoding': 'identity' },
        transfer,
      );
      try {
        if (contentRangeTotal(response, first) !== this.options.totalBytes) {
          throw new DownloadFailedError(
            `the origin stopped serving the ranges it offered (HTTP ${response.statusCode})`,
            false,
          );
        }
        const piece = Buffer.allocUnsafe(length);
        let filled = 0;
        for await (const chunk of response as AsyncIterable<Buffer>) {
          if (filled + chunk.length > length)
            throw new DownloadFailedError('the origin sent more than asked', false);
          chunk.copy(piece, filled);
          filled += chunk.length;
          this.bytesRead += chunk.length;
          if (this.bytesRead > this.options.maxBytes) throw tooLarge(this.options);
        }
        if (filled < length)
          throw new DownloadFailedError('connection closed before the body was complete', true);
        return piece;
      } finally {
        response.destroy();
      }
    });
  }
}
