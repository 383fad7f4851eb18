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

/**
 * The version a 206 answer whose Content-Range starts at `start` describes; undefined for any other. Its
 * end is left free: the first look reads only as much of it as it needs.
 */
export function versionOf(response: IncomingMessage, start: number): FileVersion | undefined {
  const range = contentRange(response);
  if (!range || range.first !== start) return undefined;
  const { etag, 'last-modified': lastModified } = response.headers;
  return { totalBytes: range.total, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
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
 * Checks that an answer to `bytes=first-last` is a 206 of exactly that range of `version`. An answer of
 * another version fails with MediaChangedError, whether it came as a 200 (a stale If-Range), a 206 or a
 * 416. A range other than the one asked is the origin's choice, not a network fault: asking again would
 * get it again, so it is not retried. A 5xx or 429 is retried, as for a whole download: an origin or CDN
 * that fails for a moment partway through a file serves the piece a moment later. So is a body cut short
 * of its own Content-Range (by the reader).
 */
export function checkPiece(
  response: IncomingMessage,
  version: FileVersion,
  first: number,
  last: number,
): void {
  const status = response.statusCode ?? 0;
  if (status >= 500 || status === 429)
    throw new DownloadFailedError(`HTTP ${status} for a range it had served`, true);
  const range = contentRange(response);
  // A file that shrank below the range asked is answered 416 with its new length, often without validators.
  const total = status === 416 ? unsatisfiableTotal(response) : range?.total;
  if (status === 416 && total !== undefined && total !== version.totalBytes)
    throw new MediaChangedError('length');
  const changed = changedValidator(response, version);
  if (changed && (status === 200 || status === 206 || status === 416)) throw new MediaChangedError(changed);
  if (total !== undefined && total !== version.totalBytes) throw new MediaChangedError('length');
  if (!range || range.first !== first) {
    throw new DownloadFailedError(`the origin stopped serving the ranges it offered (HTTP ${status})`, false);
  }
  const end = lastServed(last, range.total);
  if (range.last > end) throw new DownloadFailedError('the origin sent more than asked', false);
  if (range.last < end) {
    throw new DownloadFailedError(
      `the origin answered a shorter range than asked (bytes ${range.first}-${range.last} for ${first}-${last})`,
      false,
    );
  }
}

/** A range asked past the end of the file is rightly answered up to its last byte. */
function lastServed(last: number, total: number): number {
  return Math.min(last, total - 1);
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
 * The well-formed Content-Range of an uncompressed 206 answer; undefined for anything else, so a range
 * reader never trusts an answer it did not ask for.
 */
function contentRange(response: IncomingMessage): { first: number; last: number; total: number } | undefined {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers['content-range'] ?? '');
  if (response.statusCode !== 206 || encoding !== 'identity' || !match) return undefined;
  const [first, last, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return first <= last && last < total ? { first, last, total } : undefined;
}
