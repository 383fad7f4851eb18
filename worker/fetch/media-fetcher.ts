import dns, { type LookupAddress } from 'node:dns';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { PassThrough, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { MESSAGES } from '../../shared/contract/api-contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import {
  DownloadFailedError,
  InvalidRequestError,
  PayloadTooLargeError,
} from '../../shared/errors/errors.js';
import { isPublicAddress } from './address-guard.js';

export interface MediaFetcherOptions {
  /**
   * Lets URLs reach loopback, private and other non-public addresses. Only for deployments where every
   * client is trusted, since it lets a URL probe the internal network. Default `false`.
   */
  allowPrivateAddresses?: boolean;
  /** Redirects followed per fetch; the next one fails the fetch. Default `5`. */
  maxRedirects?: number;
  /** Budget for a whole fetch or post: DNS, connecting, every redirect and the body. Default `30000`. */
  timeoutMs?: number;
  /** A connection that receives nothing for this long is given up. Default `10000`. */
  stallTimeoutMs?: number;
  /** Sent as the User-Agent header. Default `facedetect-media-fetcher`. */
  userAgent?: string;
  /**
   * Decides which resolved addresses may be contacted while `allowPrivateAddresses` is false.
   * Default `isPublicAddress`; tests narrow it to tell two loopback servers apart.
   */
  isAllowedAddress?: (ip: string) => boolean;
}

export interface FetchLimits {
  /** Bytes of the decoded body; one more fails the fetch with PayloadTooLargeError. */
  maxBytes: number;
  /** The setting behind `maxBytes`, named in the error so an operator knows what to raise. */
  limitName?: string;
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

interface OutgoingRequest {
  method: 'GET' | 'POST';
  headers: OutgoingHttpHeaders;
  body?: Buffer;
}

interface OpenedMedia {
  response: IncomingMessage;
  decoder: Transform;
  finalUrl: string;
}

type CheckedAddresses = [LookupAddress, ...LookupAddress[]];

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const TLS_FAILURE = /^(EPROTO$|ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;
const NETWORK_FAULTS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network unreachable',
  EPIPE: 'connection closed while sending',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the body was complete',
};

/**
 * The only code that opens connections to user-supplied URLs. Every hop is resolved here and each
 * resolved address checked before connecting, and the connection goes to exactly the checked address,
 * so neither a redirect nor a DNS answer that changes between check and connect (rebinding) can
 * reach an internal address.
 */
export class MediaFetcher {
  private readonly maxRedirects: number;
  private readonly timeoutMs: number;
  private readonly stallTimeoutMs: number;
  private readonly userAgent: string;
  private readonly isAllowed: (ip: string) => boolean;

  constructor(options: MediaFetcherOptions = {}) {
    this.maxRedirects = options.maxRedirects ?? 5;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 10_000;
    this.userAgent = options.userAgent ?? 'facedetect-media-fetcher';
    this.isAllowed = options.allowPrivateAddresses
      ? () => true
      : (options.isAllowedAddress ?? isPublicAddress);
  }

  async fetchBuffer(url: string, limits: FetchLimits): Promise<FetchedBuffer> {
    return this.withDeadline(this.timeoutMs, limits.signal, async (transfer) => {
      const { response, decoder, finalUrl } = await this.openMedia(url, limits, transfer);
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

  /** Streams the body to `filePath`, so a video never sits in memory; a failed fetch leaves no file. */
  async fetchToFile(url: string, filePath: string, limits: FetchLimits): Promise<FetchedFile> {
    let file: WriteStream | undefined;
    try {
      return await this.withDeadline(this.timeoutMs, limits.signal, async (transfer) => {
        const { response, decoder, finalUrl } = await this.openMedia(url, limits, transfer);
        file = createWriteStream(filePath);
        await pipeline(response, decoder, limitBytes(limits), file);
        return { bytes: file.bytesWritten, contentType: response.headers['content-type'], finalUrl };
      });
    } catch (err) {
      if (file) {
        // Unlinking before the stream has closed could race its pending open and leave the file behind.
        const closing = file;
        if (!closing.closed) await new Promise<void>((resolve) => closing.once('close', () => resolve()));
        await rm(filePath, { force: true });
      }
      throw err;
    }
  }

  /**
   * Posts `body` as JSON and reports the status without reading the answer. Redirects are not
   * followed: a webhook that moved answers 3xx and the caller decides.
   */
  /** Posts `json` (already serialized, so a signature over it covers exactly the bytes sent). */
  async postJson(
    url: string,
    json: string,
    headers: Record<string, string>,
    opts: { timeoutMs?: number } = {},
  ): Promise<{ status: number }> {
    const payload = Buffer.from(json);
    return this.withDeadline(opts.timeoutMs ?? this.timeoutMs, undefined, async (transfer) => {
      const response = await this.request(
        parseHttpUrl(url),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers, 'content-length': payload.length },
          body: payload,
        },
        transfer,
      );
      response.destroy();
      return { status: response.statusCode ?? 0 };
    });
  }

  /**
   * Runs `work` under the total timeout and the caller's signal. Whatever stops a transfer (deadline,
   * stall, caller) aborts `transfer` with the error to report, and that error wins over the socket
   * errors the teardown causes.
   */
  private async withDeadline<T>(
    timeoutMs: number,
    outer: AbortSignal | undefined,
    work: (transfer: AbortController) => Promise<T>,
  ): Promise<T> {
    const transfer = new AbortController();
    const timer = setTimeout(
      () => transfer.abort(new DownloadFailedError(`timed out after ${timeoutMs} ms`, true)),
      timeoutMs,
    );
    const forward = () => transfer.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    try {
      return await work(transfer);
    } catch (err) {
      throw transfer.signal.aborted ? transfer.signal.reason : asFetchError(err);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
  }

  private async openMedia(
    rawUrl: string,
    limits: FetchLimits,
    transfer: AbortController,
  ): Promise<OpenedMedia> {
    let url = parseHttpUrl(rawUrl);
    for (let redirects = 0; ; redirects++) {
      const response = await this.request(url, { method: 'GET', headers: { accept: '*/*' } }, transfer);
      try {
        const status = response.statusCode ?? 0;
        if (REDIRECT_STATUSES.has(status)) {
          if (redirects >= this.maxRedirects) {
            throw new DownloadFailedError(`more than ${this.maxRedirects} redirects`, false);
          }
          url = redirectTarget(response, url);
          response.destroy();
          continue;
        }
        if (status < 200 || status > 299) {
          throw new DownloadFailedError(`HTTP ${status}`, status >= 500 || status === 429);
        }
        const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
        // A compressed body may legitimately be smaller on the wire than the limit, so only an
        // uncompressed declared length says anything about the decoded size.
        if (encoding === 'identity' && Number(response.headers['content-length']) > limits.maxBytes) {
          throw tooLarge(limits);
        }
        return { response, decoder: decoderFor(encoding), finalUrl: url.href };
      } catch (err) {
        response.destroy();
        throw err;
      }
    }
  }

  private async request(
    url: URL,
    outgoing: OutgoingRequest,
    transfer: AbortController,
  ): Promise<IncomingMessage> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = await this.checkedAddresses(host, transfer.signal);
    const { signal } = transfer;
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request({
        method: outgoing.method,
        host,
        port: url.port ? Number(url.port) : undefined,
        path: `${url.pathname}${url.search}`,
        headers: { 'user-agent': this.userAgent, ...outgoing.headers },
        // A fresh agent per request: a pooled socket could have been opened under another check.
        agent: false,
        lookup: pinnedLookup(addresses),
        servername: isIP(host) ? undefined : host,
      });
      let response: IncomingMessage | undefined;
      signal.addEventListener(
        'abort',
        () => {
          req.destroy();
          response?.destroy();
          reject(signal.reason as Error);
        },
        { once: true },
      );
      req.setTimeout(this.stallTimeoutMs, () =>
        transfer.abort(new DownloadFailedError(`no data for ${this.stallTimeoutMs} ms`, true)),
      );
      req.on('error', reject);
      req.once('response', (res) => {
        response = res;
        resolve(res);
      });
      req.end(outgoing.body);
    });
  }

  private async checkedAddresses(host: string, signal: AbortSignal): Promise<CheckedAddresses> {
    const family = isIP(host);
    const addresses = family ? [{ address: host, family }] : await lookupAll(host, signal);
    const [first, ...rest] = addresses;
    if (!first || !addresses.every((a) => this.isAllowed(a.address))) {
      throw new DownloadFailedError('address not allowed', false);
    }
    return [first, ...rest];
  }
}

function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidRequestError(MESSAGES.invalidUrl);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidRequestError(MESSAGES.invalidUrl);
  return url;
}

/** The user's URL was fine, so a bad Location is the server's fault, not an invalid request. */
function redirectTarget(response: IncomingMessage, from: URL): URL {
  const location = response.headers.location;
  if (!location) throw new DownloadFailedError(`HTTP ${response.statusCode} without a Location`, false);
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new DownloadFailedError('redirected to an invalid URL', false);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new DownloadFailedError('redirected to a non-HTTP URL', false);
  }
  return target;
}

async function lookupAll(host: string, signal: AbortSignal): Promise<LookupAddress[]> {
  try {
    return await abortable(dns.promises.lookup(host, { all: true }), signal);
  } catch (err) {
    if (signal.aborted) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DownloadFailedError(`could not resolve host ${host}`, code !== 'ENOTFOUND', { cause: err });
  }
}

/** dns.lookup cannot be cancelled; this stops waiting for it. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Hands the socket the addresses that were already checked instead of asking DNS again. */
function pinnedLookup(addresses: CheckedAddresses): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
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
function limitBytes(limits: FetchLimits): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      callback(total > limits.maxBytes ? tooLarge(limits) : null, chunk);
    },
  });
}

function tooLarge({ maxBytes, limitName }: FetchLimits): PayloadTooLargeError {
  const setting = limitName ? ` (${limitName})` : '';
  return new PayloadTooLargeError(
    `Media at the URL is larger than the ${maxBytes}-byte limit${setting}; use a smaller file`,
  );
}

/**
 * Socket, TLS, parser and zlib errors become download failures. Anything else, such as a local file
 * error while writing or a bug, stays as it is rather than pass for the remote server's fault.
 */
function asFetchError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return err;
  if (TLS_FAILURE.test(code)) return new DownloadFailedError(`TLS failure (${code})`, false, { cause: err });
  if (code.startsWith('HPE_'))
    return new DownloadFailedError('malformed HTTP response', false, { cause: err });
  if (code.startsWith('Z_')) return new DownloadFailedError('corrupt compressed body', false, { cause: err });
  const fault = NETWORK_FAULTS[code];
  return fault ? new DownloadFailedError(fault, true, { cause: err }) : err;
}
