import { expect } from 'chai';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { AppError } from '../../shared/errors/app-error.js';
import { checkPiece, ifRangeFor, versionOf, type FileVersion } from '../../worker/fetch/range-answer.js';

const answer = (statusCode: number, headers: IncomingHttpHeaders) =>
  ({ statusCode, headers }) as IncomingMessage;

/** The code and message checkPiece throws, or undefined when it accepts the answer. */
function refusal(response: IncomingMessage, version: FileVersion, first: number, last = first + 99) {
  try {
    checkPiece(response, version, first, last);
    return undefined;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { code: err.code, status: err.httpStatus, retryable: err.retryable, message: err.message };
  }
}

const LAST_MODIFIED = 'Mon, 01 Dec 2025 10:00:00 GMT';
const version: FileVersion = { totalBytes: 1000, etag: '"a"', lastModified: LAST_MODIFIED };
const same = { etag: '"a"', 'last-modified': LAST_MODIFIED };

describe('range answers: one version of the file across pieces', () => {
  it('when the first answer carries validators, then its version keeps them with its length', () => {
    const first = answer(206, { ...same, 'content-range': 'bytes 0-99/1000' });
    expect(versionOf(first, 0)).to.deep.equal(version);
    expect(versionOf(answer(206, { 'content-range': 'bytes 0-99/1000' }), 0)).to.deep.equal({
      totalBytes: 1000,
    });
    expect(versionOf(answer(200, same), 0)).to.equal(undefined);
  });

  it('when the ETag is strong, then If-Range sends it; when weak or absent, Last-Modified; with neither, nothing', () => {
    expect(ifRangeFor(version)).to.equal('"a"');
    expect(ifRangeFor({ ...version, etag: 'W/"a"' })).to.equal(LAST_MODIFIED);
    expect(ifRangeFor({ totalBytes: 1000, lastModified: LAST_MODIFIED })).to.equal(LAST_MODIFIED);
    expect(ifRangeFor({ totalBytes: 1000, etag: 'W/"a"' })).to.equal(undefined);
    expect(ifRangeFor({ totalBytes: 1000 })).to.equal(undefined);
  });

  it('when a piece is of the same version and range, then it is accepted', () => {
    expect(refusal(answer(206, { ...same, 'content-range': 'bytes 100-199/1000' }), version, 100)).to.equal(
      undefined,
    );
  });

  it('when a piece holds fewer or more bytes than asked, then it is refused at once, not retried', () => {
    const short = refusal(answer(206, { ...same, 'content-range': 'bytes 100-149/1000' }), version, 100, 199);
    expect(short).to.deep.include({
      code: 'DOWNLOAD_FAILED',
      retryable: false,
      message:
        'Failed to download media from URL: the origin answered a shorter range than asked (bytes 100-149 for 100-199)',
    });
    const long = refusal(answer(206, { ...same, 'content-range': 'bytes 100-299/1000' }), version, 100, 199);
    expect(long).to.deep.include({
      retryable: false,
      message: 'Failed to download media from URL: the origin sent more than asked',
    });
  });

  it('when a piece is asked past the end of the file, then an answer up to its last byte is accepted', () => {
    const tail = answer(206, { ...same, 'content-range': 'bytes 900-999/1000' });
    expect(refusal(tail, version, 900, 1199)).to.equal(undefined);
    const shortOfTheEnd = answer(206, { ...same, 'content-range': 'bytes 900-998/1000' });
    expect(refusal(shortOfTheEnd, version, 900, 1199)?.retryable).to.equal(false);
  });

  it('when a piece states another ETag, Last-Modified or length, then it fails as a changed file, not retried', () => {
    const cases: [IncomingMessage, string][] = [
      [answer(206, { ...same, etag: '"b"', 'content-range': 'bytes 100-199/1000' }), 'ETag'],
      [answer(206, { ...same, etag: undefined, 'content-range': 'bytes 100-199/1000' }), 'ETag'],
      [
        answer(206, { ...same, 'last-modified': 'Tue', 'content-range': 'bytes 100-199/1000' }),
        'Last-Modified',
      ],
      [answer(206, { ...same, 'content-range': 'bytes 100-199/1200' }), 'length'],
      [answer(200, { etag: '"b"' }), 'ETag'],
      [answer(416, { ...same, 'content-range': 'bytes */50' }), 'length'],
      // A 416 need not restate the validators: its new length is what it says.
      [answer(416, { 'content-range': 'bytes */50' }), 'length'],
      [answer(416, { etag: '"b"', 'content-range': 'bytes */1000' }), 'ETag'],
    ];
    for (const [response, what] of cases) {
      const failure = refusal(response, version, 100);
      expect(failure, what).to.deep.include({ code: 'MEDIA_CHANGED', status: 422, retryable: false });
      expect(failure?.message, what).to.contain(`the file changed while it was read (its ${what} changed)`);
    }
  });

  it('when the same version comes back whole or from another offset, then the origin stopped serving ranges', () => {
    for (const response of [
      answer(200, same),
      answer(206, { ...same, 'content-range': 'bytes 0-99/1000' }),
      answer(206, { ...same, 'content-range': 'bytes 100-199/1000', 'content-encoding': 'gzip' }),
      answer(404, { etag: '"b"' }),
    ]) {
      expect(refusal(response, version, 100)).to.deep.include({
        code: 'DOWNLOAD_FAILED',
        retryable: false,
        message: `Failed to download media from URL: the origin stopped serving the ranges it offered (HTTP ${response.statusCode})`,
      });
    }
  });

  it('when a piece is answered 5xx or 429, then it fails as a download that may pass on a retry', () => {
    for (const status of [500, 502, 503, 504, 429]) {
      expect(refusal(answer(status, {}), version, 100), String(status)).to.deep.include({
        code: 'DOWNLOAD_FAILED',
        retryable: true,
        message: `Failed to download media from URL: HTTP ${status} for a range it had served`,
      });
    }
  });
});
