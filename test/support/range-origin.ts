import type { IncomingMessage, ServerResponse } from 'node:http';
import { startFixtureServer, type FixtureServer } from './http-fixture-server.js';

/** One version of the file an origin serves, with the validators it sends along. */
export interface OriginFile {
  bytes: Buffer;
  etag?: string;
  lastModified?: string;
}

/** How an origin departs from the range it was asked for, on one request. */
interface RangeFault {
  /** A well-formed answer whose Content-Range (and body) stops at this byte instead. */
  endAt?: number;
  /** Content-Range and Content-Length promise the range, but the socket closes after this many bytes. */
  closeAfter?: number;
}

export interface RangeOriginOptions {
  /** The file the n-th request (counted from 1) is answered from. */
  file(n: number): OriginFile;
  /**
   * Answer an If-Range that no longer matches with the whole file (200), as RFC 9110 asks; otherwise
   * If-Range is ignored and the range served from whatever the file is now.
   */
  honourIfRange?: boolean;
  /** The n-th request asked for bytes `start`–`end`. */
  fault?(n: number, start: number, end: number): RangeFault | undefined;
}

/** What the origin was asked, in order. */
export interface SeenRequest {
  range: string | undefined;
  ifRange: string | undefined;
}

/** An origin that serves byte ranges of files held in memory, and misbehaves as a test tells it to. */
export async function startRangeOrigin(
  options: RangeOriginOptions,
): Promise<FixtureServer & { seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server = await startFixtureServer((req, res) => {
    const ifRange = req.headers['if-range'];
    seen.push({ range: req.headers.range, ifRange: Array.isArray(ifRange) ? ifRange.join() : ifRange });
    answer(req, res, options, seen.length);
  });
  return { ...server, seen };
}

function answer(req: IncomingMessage, res: ServerResponse, options: RangeOriginOptions, n: number): void {
  const file = options.file(n);
  const size = file.bytes.length;
  const validators = {
    ...(file.etag ? { etag: file.etag } : {}),
    ...(file.lastModified ? { 'last-modified': file.lastModified } : {}),
  };
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  const stale = ifRange !== undefined && ifRange !== file.etag && ifRange !== file.lastModified;
  if (!range || (options.honourIfRange && stale)) {
    res.writeHead(200, { ...validators, 'content-length': size }).end(file.bytes);
    return;
  }
  const [start, asked] = [Number(range[1]), Number(range[2])];
  const fault = options.fault?.(n, start, asked);
  const end = Math.min(fault?.endAt ?? asked, size - 1);
  const body = file.bytes.subarray(start, end + 1);
  res.writeHead(206, {
    ...validators,
    'content-range': `bytes ${start}-${end}/${size}`,
    'content-length': body.length,
  });
  if (fault?.closeAfter === undefined) {
    res.end(body);
    return;
  }
  res.write(body.subarray(0, fault.closeAfter), () => res.destroy());
}
