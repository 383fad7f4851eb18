import type { IncomingMessage } from 'node:http';
import { DownloadFailedError, MediaChangedError } from '../../shared/errors/errors.js';

/**
 * What tells one version of a remote file from another, as the first answer of a range read stated it:
 * every later piece must be of the same version, or the pieces would be two files stitched together.
 */
export interface FileVersion {
  totalBytes: number;
  etag?: string;
  lastModified?: string;
}

/** The version a 206 answer whose Content-Range starts at `start` describes; undefined for any other. */
export function versionOf(response: IncomingMessage, start: number): FileVersion | undefined {
  const totalBytes = contentRangeTotal(response, start);
  if (totalBytes === undefined) return undefined;
  const { etag, 'last-modified': lastModified } = response.headers;
  return { totalBytes, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

/**
 * The If-Range that makes the origin answer a later piece of another version with the whole file (200)
 * rather than with a piece of it: a strong ETag, else Last-Modified. A weak ETag may not be sent in If-Range
 * (RFC 9110 §13.1.5); it is still compared on every answer.
 */
export function ifRangeFor(version: FileVersion): string | undefined {
  return version.etag && !version.etag.startsWith('W/') ? version.etag : version.lastModified;
}

/**
 * Checks that an answer to `bytes=first-last` is a 206 of that range of `version`. An answer of another
 * version fails with MediaChangedError, whether it came as a 200 (a stale If-Range), a 206 or a 416; any
 * other answer means the origin stopped serving ranges.
 */
export function checkPiece(response: IncomingMessage, version: FileVersion, first: number): void {
  const status = response.statusCode ?? 0;
  const changed = changedValidator(response, version);
  if (changed && (status === 200 || status === 206 || status === 416)) throw new MediaChangedError(changed);
  // A file that shrank below the range asked is answered 416, with its new length.
  const total = status === 416 ? unsatisfiableTotal(response) : contentRangeTotal(response, first);
  if (total !== undefined && total !== version.totalBytes) throw new MediaChangedError('length');
  if (status !== 206 || total === undefined) {
    throw new DownloadFailedError(`the origin stopped serving the ranges it offered (HTTP ${status})`, false);
  }
}

/** The first validator of `version` that the answer states otherwise, or leaves out. */
function changedValidator(
  response: IncomingMessage,
  version: FileVersion,
): 'ETag' | 'Last-Modified' | undefined {
  if (version.etag !== undefined && response.headers.etag !== version.etag) return 'ETag';
  if (version.lastModified !== undefined && response.headers['last-modified'] !== version.lastModified) {
    return 'Last-Modified';
  }
  return undefined;
}

function unsatisfiableTotal(response: IncomingMessage): number | undefined {
  const match = /^bytes \*\/(\d+)$/.exec(response.headers['content-range'] ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * The total length of a 206 answer whose `Content-Range` starts at `start` and is uncompressed; undefined
 * for anything else, so a range reader never trusts an answer it did not ask for.
 */
function contentRangeTotal(response: IncomingMessage, start: number): number | undefined {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers['content-range'] ?? '');
  if (response.statusCode !== 206 || encoding !== 'identity' || !match) return undefined;
  const [first, last, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return first === start && last >= first && last < total ? total : undefined;
}
