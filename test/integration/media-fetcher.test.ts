import { expect } from 'chai';
import dns, { type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mock } from 'node:test';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { AppError } from '../../shared/errors/app-error.js';
import { URL_REFUSALS } from '../../shared/errors/errors.js';
import type { SniffedMedia } from '../../shared/media/media-sniffer.js';
import { MediaFetcher } from '../../worker/fetch/media-fetcher.js';
import { WebhookPoster } from '../../worker/fetch/webhook-poster.js';

const ADDRESS_REFUSED = `'url' is refused: ${URL_REFUSALS.address}`;
const REDIRECT_REFUSED = `'url' is refused: ${URL_REFUSALS.redirectAddress}`;
const LIMIT = 1024 * 1024;
const IMAGE = Buffer.from('not really a jpeg, but bytes all the same');
const GZIP_BOMB = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
/** An MP4's first bytes (an ftyp box), then filler: a video to the sniffer. */
const mp4Bytes = (size: number) =>
  Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.alloc(size - 12, 7)]);
const isVideo = (sniffed: SniffedMedia) => sniffed.kind === 'video';
// Self-signed for media.test; the tests run from dist/test/integration, the fixtures stay in test/fixtures.
const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const TLS_IDENTITY = {
  key: readFileSync(new URL('self-signed.key.pem', FIXTURES)),
  cert: readFileSync(new URL('self-signed.cert.pem', FIXTURES)),
};

interface ReceivedPost {
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function listen(
  host: string,
  handler: http.RequestListener,
): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, base: `http://${host}:${(server.address() as AddressInfo).port}` };
}

async function shutdown(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    return err as AppError;
  }
  return expect.fail('expected the promise to reject');
}

/** Answers every DNS lookup the fetcher makes (it asks for all addresses) with `answer` while `run` runs. */
async function withStubbedLookup<T>(answer: Promise<LookupAddress[]>, run: () => Promise<T>): Promise<T> {
  const lookup = mock.method(dns.promises, 'lookup', () => answer);
  try {
    return await run();
  } finally {
    lookup.mock.restore();
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('MediaFetcher', () => {
  let main: http.Server;
  let base: string;
  let second: http.Server;
  let secondBase: string;
  let secondHits = 0;
  /** What the 'mp4' routes were asked and sent. */
  let mp4 = { requests: 0, bytesSent: 0 };
  let posts: ReceivedPost[] = [];
  let abortOnRequest: AbortController | undefined;
  let tmp: string;

  // Private addresses allowed because every test server is on loopback; the guard is tested apart.
  const fetcher = new MediaFetcher({ allowPrivateAddresses: true, stallTimeoutMs: 300, timeoutMs: 3000 });
  const guarded = new MediaFetcher({ stallTimeoutMs: 300, timeoutMs: 3000 });
  const poster = new WebhookPoster({ allowPrivateAddresses: true, stallTimeoutMs: 300, timeoutMs: 3000 });
  const guardedPoster = new WebhookPoster({ stallTimeoutMs: 300, timeoutMs: 3000 });
  // Tells the two loopback servers apart: 127.0.0.1 stands for a public host, 127.0.0.2 for an internal one.
  const onlyFirstAllowed = new MediaFetcher({
    isAllowedAddress: (ip) => ip === '127.0.0.1',
    stallTimeoutMs: 300,
  });

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'media-fetcher-'));
    ({ server: second, base: secondBase } = await listen('127.0.0.2', (_req, res) => {
      secondHits++;
      res.end(IMAGE);
    }));
    ({ server: main, base } = await listen('127.0.0.1', (req, res) => {
      const url = new URL(req.url ?? '/', base);
      const [, route, arg] = url.pathname.split('/');
      switch (route) {
        case 'image':
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': IMAGE.length });
          res.end(IMAGE);
          return;
        case 'empty':
          res.writeHead(200, { 'content-length': 0 });
          res.end();
          return;
        case 'headers':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(req.headers));
          return;
        case 'redirect': {
          const left = Number(arg);
          res.writeHead(302, { location: left > 0 ? `/redirect/${left - 1}` : '/image' });
          res.end();
          return;
        }
        case 'to-second':
          res.writeHead(302, { location: `${secondBase}/image` });
          res.end();
          return;
        case 'to-ftp':
          res.writeHead(301, { location: 'ftp://example.com/image.jpg' });
          res.end();
          return;
        case 'status':
          res.writeHead(Number(arg));
          res.end('nope');
          return;
        case 'silent':
          return;
        case 'stall':
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          res.write('first bytes, then nothing');
          return;
        case 'trickle': {
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          const timer = setInterval(() => res.write('x'), 20);
          res.on('close', () => clearInterval(timer));
          return;
        }
        case 'abort':
          res.writeHead(200);
          res.write('partial');
          abortOnRequest?.abort(new Error('job cancelled'));
          return;
        case 'mp4-ranges': {
          // Answers a range of the first bytes as S3 does, or the whole file.
          mp4.requests++;
          const body = mp4Bytes(Number(arg));
          const range = /^bytes=0-(\d+)$/.exec(req.headers.range ?? '');
          const end = range ? Math.min(Number(range[1]), body.length - 1) : body.length - 1;
          res.writeHead(range ? 206 : 200, {
            'content-length': end + 1,
            ...(range ? { 'content-range': `bytes 0-${end}/${body.length}` } : {}),
          });
          mp4.bytesSent += end + 1;
          res.end(body.subarray(0, end + 1));
          return;
        }
        case 'mp4-whole': {
          // Ignores Range and streams the whole file, as fast as the client takes it.
          mp4.requests++;
          const size = Number(arg);
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': size });
          const chunk = mp4Bytes(64 * 1024);
          const more = () => {
            while (mp4.bytesSent < size && !res.destroyed) {
              const part = chunk.subarray(0, size - mp4.bytesSent);
              mp4.bytesSent += part.length;
              if (!res.write(part)) return void res.once('drain', more);
            }
            res.end();
          };
          res.on('close', () => res.removeAllListeners('drain'));
          more();
          return;
        }
        case 'undeclared-big':
          res.writeHead(200, { 'content-type': 'video/mp4' });
          res.end(Buffer.alloc(LIMIT + 1));
          return;
        case 'declared-big':
          res.writeHead(200, { 'content-length': 10 * LIMIT });
          res.write('a few bytes, and the rest never comes');
          return;
        case 'cut':
          res.writeHead(200, { 'content-length': 1000 });
          res.write('only part of it');
          setImmediate(() => req.socket.destroy());
          return;
        case 'gzip-bomb':
          res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': GZIP_BOMB.length });
          res.end(GZIP_BOMB);
          return;
        case 'gzip': {
          const body = zlib.gzipSync(IMAGE);
          res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length });
          res.end(body);
          return;
        }
        case 'br':
          res.writeHead(200, { 'content-encoding': 'br' });
          res.end(zlib.brotliCompressSync(IMAGE));
          return;
        case 'malformed':
          req.socket.end('HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\nhi');
          return;
        case 'bad-gzip':
          res.writeHead(200, { 'content-encoding': 'gzip' });
          res.end('this was never gzip');
          return;
        case 'compress':
          res.writeHead(200, { 'content-encoding': 'compress' });
          res.end(IMAGE);
          return;
        case 'webhook': {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => {
            posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
            res.writeHead(204);
            res.end();
          });
          return;
        }
        default:
          res.writeHead(404);
          res.end();
      }
    }));
  });

  after(async () => {
    await Promise.all([shutdown(main), shutdown(second)]);
    await rm(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    secondHits = 0;
    posts = [];
    mp4 = { requests: 0, bytesSent: 0 };
    abortOnRequest = undefined;
  });

  describe('fetch into memory', () => {
    it('when the server answers 200, then the body, content type and final URL come back', async () => {
      const result = await fetcher.fetch(`${base}/image`, { bytes: LIMIT, setting: 'TEST_LIMIT' });
      expect(result.bytes.equals(IMAGE)).to.equal(true);
      expect(result.contentType).to.equal('image/jpeg');
      expect(result.finalUrl).to.equal(`${base}/image`);
    });

    it('when the body is empty, then an empty buffer comes back', async () => {
      const result = await fetcher.fetch(`${base}/empty`, { bytes: LIMIT, setting: 'TEST_LIMIT' });
      expect(result.bytes.length).to.equal(0);
    });

    it('when fetching by host name, then the Host header keeps the name and no Accept-Encoding is sent', async () => {
      const url = `${base.replace('127.0.0.1', 'localhost')}/headers`;
      const result = await fetcher.fetch(url, { bytes: LIMIT, setting: 'TEST_LIMIT' });
      const headers = JSON.parse(result.bytes.toString()) as http.IncomingHttpHeaders;
      expect(headers.host).to.equal(new URL(url).host);
      expect(headers).not.to.have.property('accept-encoding');
      expect(headers['user-agent']).to.equal('facedetect-media-fetcher');
    });

    for (const url of [
      'ftp://example.com/a.jpg',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
      '',
    ]) {
      it(`when the URL is ${JSON.stringify(url)}, then it fails with "Invalid URL format" (400)`, async () => {
        const err = await rejection(fetcher.fetch(url, { bytes: LIMIT, setting: 'TEST_LIMIT' }));
        expect(err.message).to.equal('Invalid URL format');
        expect(err.httpStatus).to.equal(400);
      });
    }

    for (const host of ['127.0.0.1', 'localhost', '[::1]', '[::ffff:127.0.0.1]', '0x7f000001', '0.0.0.0']) {
      it(`when the host is ${host} and private addresses are not allowed, then the address is refused`, async () => {
        const port = new URL(base).port;
        const err = await rejection(
          guarded.fetch(`http://${host}:${port}/image`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
        );
        expect(err.message).to.equal(ADDRESS_REFUSED);
        expect(err.retryable).to.equal(false);
      });
    }

    it('when an allowed server redirects to a refused address, then the fetch is refused before contacting it', async () => {
      const first = await onlyFirstAllowed.fetch(`${base}/image`, {
        bytes: LIMIT,
        setting: 'TEST_LIMIT',
      });
      expect(first.bytes.equals(IMAGE)).to.equal(true);
      const err = await rejection(
        onlyFirstAllowed.fetch(`${base}/to-second`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.message).to.equal(REDIRECT_REFUSED);
      expect(secondHits).to.equal(0);
    });

    it('when a name resolves to an allowed address, then the connection goes to that checked address', async () => {
      // The name exists nowhere but in the stub: had the socket resolved it again, the fetch would fail.
      const url = `${base.replace('127.0.0.1', 'media.invalid')}/headers`;
      const result = await withStubbedLookup(Promise.resolve([{ address: '127.0.0.1', family: 4 }]), () =>
        onlyFirstAllowed.fetch(url, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect((JSON.parse(result.bytes.toString()) as http.IncomingHttpHeaders).host).to.equal(
        new URL(url).host,
      );
    });

    it('when a name resolves to several addresses and one is refused, then the fetch is refused', async () => {
      const answer = [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ];
      const url = `${base.replace('127.0.0.1', 'media.invalid')}/image`;
      const err = await rejection(
        withStubbedLookup(Promise.resolve(answer), () =>
          onlyFirstAllowed.fetch(url, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
        ),
      );
      expect(err.message).to.equal(ADDRESS_REFUSED);
    });

    it('when a name does not exist, then it fails without retry', async () => {
      const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND media.invalid'), { code: 'ENOTFOUND' });
      const err = await rejection(
        withStubbedLookup(Promise.reject(notFound), () =>
          fetcher.fetch('http://media.invalid/image', { bytes: LIMIT, setting: 'TEST_LIMIT' }),
        ),
      );
      expect(err.message).to.equal('Failed to download media from URL: could not resolve host media.invalid');
      expect(err.retryable).to.equal(false);
    });

    it('when an https server presents an untrusted certificate, then SNI names the host and it fails without retry', async () => {
      let sni: string | undefined;
      const server = https.createServer({
        ...TLS_IDENTITY,
        SNICallback: (name, done) => {
          sni = name;
          done(null, tls.createSecureContext(TLS_IDENTITY));
        },
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `https://media.test:${(server.address() as AddressInfo).port}/image`;
        const err = await rejection(
          withStubbedLookup(Promise.resolve([{ address: '127.0.0.1', family: 4 }]), () =>
            onlyFirstAllowed.fetch(url, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
          ),
        );
        expect(err.message).to.equal(
          'Failed to download media from URL: TLS failure (DEPTH_ZERO_SELF_SIGNED_CERT)',
        );
        expect(err.retryable).to.equal(false);
        expect(sni).to.equal('media.test');
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('when redirects cross to another allowed host, then the final URL is the last hop', async () => {
      const result = await fetcher.fetch(`${base}/to-second`, { bytes: LIMIT, setting: 'TEST_LIMIT' });
      expect(result.bytes.equals(IMAGE)).to.equal(true);
      expect(result.finalUrl).to.equal(`${secondBase}/image`);
    });

    it('when the chain has 5 redirects, then it is followed to the end', async () => {
      const result = await fetcher.fetch(`${base}/redirect/4`, { bytes: LIMIT, setting: 'TEST_LIMIT' });
      expect(result.bytes.equals(IMAGE)).to.equal(true);
      expect(result.finalUrl).to.equal(`${base}/image`);
    });

    it('when the chain has more than 5 redirects, then it fails without retry', async () => {
      const err = await rejection(
        fetcher.fetch(`${base}/redirect/5`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.message).to.equal('Failed to download media from URL: more than 5 redirects');
      expect(err.retryable).to.equal(false);
    });

    it('when a redirect points to a non-HTTP URL, then it fails without retry', async () => {
      const err = await rejection(fetcher.fetch(`${base}/to-ftp`, { bytes: LIMIT, setting: 'TEST_LIMIT' }));
      expect(err.message).to.equal(`'url' is refused: ${URL_REFUSALS.redirectScheme}`);
      expect(err.retryable).to.equal(false);
    });

    it('when the server answers 404, then it fails with the status and without retry', async () => {
      const err = await rejection(
        fetcher.fetch(`${base}/status/404`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.message).to.equal('Failed to download media from URL: HTTP 404');
      expect(err.code).to.equal('DOWNLOAD_FAILED');
      expect(err.httpStatus).to.equal(502);
      expect(err.retryable).to.equal(false);
    });

    for (const status of [503, 429]) {
      it(`when the server answers ${status}, then the failure is retryable`, async () => {
        const err = await rejection(
          fetcher.fetch(`${base}/status/${status}`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
        );
        expect(err.message).to.equal(`Failed to download media from URL: HTTP ${status}`);
        expect(err.retryable).to.equal(true);
      });
    }

    it('when nothing listens on the port, then the failure is retryable', async () => {
      const { server, base: closedBase } = await listen('127.0.0.1', () => undefined);
      await shutdown(server);
      const err = await rejection(
        fetcher.fetch(`${closedBase}/image`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.message).to.equal('Failed to download media from URL: connection refused');
      expect(err.retryable).to.equal(true);
    });

    it('when the connection drops mid-body, then the failure is retryable', async () => {
      const err = await rejection(fetcher.fetch(`${base}/cut`, { bytes: LIMIT, setting: 'TEST_LIMIT' }));
      expect(err.message).to.equal('Failed to download media from URL: connection reset');
      expect(err.retryable).to.equal(true);
    });

    it('when the server stops sending mid-body, then it fails as stalled and retryable', async () => {
      const err = await rejection(fetcher.fetch(`${base}/stall`, { bytes: LIMIT, setting: 'TEST_LIMIT' }));
      expect(err.message).to.equal('Failed to download media from URL: no data for 300 ms');
      expect(err.retryable).to.equal(true);
    });

    it('when the server never answers, then it fails as stalled', async () => {
      const err = await rejection(fetcher.fetch(`${base}/silent`, { bytes: LIMIT, setting: 'TEST_LIMIT' }));
      expect(err.message).to.equal('Failed to download media from URL: no data for 300 ms');
    });

    it('when the body trickles in past the total timeout, then it fails as timed out and retryable', async () => {
      const impatient = new MediaFetcher({
        allowPrivateAddresses: true,
        stallTimeoutMs: 300,
        timeoutMs: 400,
      });
      const err = await rejection(
        impatient.fetch(`${base}/trickle`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.message).to.equal('Failed to download media from URL: timed out after 400 ms');
      expect(err.retryable).to.equal(true);
    });

    it("when the caller's signal aborts, then the fetch rejects with the signal's reason", async () => {
      abortOnRequest = new AbortController();
      const err = await rejection(
        fetcher.fetch(`${base}/abort`, {
          bytes: LIMIT,
          setting: 'TEST_LIMIT',
          signal: abortOnRequest.signal,
        }),
      );
      expect(err.message).to.equal('job cancelled');
    });

    it('when the signal is already aborted, then nothing is fetched', async () => {
      const err = await rejection(
        fetcher.fetch(`${base}/image`, {
          bytes: LIMIT,
          setting: 'TEST_LIMIT',
          signal: AbortSignal.abort(new Error('gone')),
        }),
      );
      expect(err.message).to.equal('gone');
    });

    it('when the body exceeds the limit without a Content-Length, then it fails with 413 naming the limit', async () => {
      const err = await rejection(
        fetcher.fetch(`${base}/undeclared-big`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.httpStatus).to.equal(413);
      expect(err.message).to.include(`${LIMIT}-byte limit`);
    });

    it('when the Content-Length is above the limit, then it fails with 413 before the body arrives', async () => {
      const err = await rejection(
        fetcher.fetch(`${base}/declared-big`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.httpStatus).to.equal(413);
    });

    it('when a small gzip body inflates past the limit, then it fails with 413', async () => {
      const err = await rejection(
        fetcher.fetch(`${base}/gzip-bomb`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.httpStatus).to.equal(413);
      expect(err.message).to.include(`${LIMIT}-byte limit`);
    });

    for (const encoding of ['gzip', 'br']) {
      it(`when the server sends a ${encoding} body unasked, then the decoded bytes come back`, async () => {
        const result = await fetcher.fetch(`${base}/${encoding}`, {
          bytes: LIMIT,
          setting: 'TEST_LIMIT',
        });
        expect(result.bytes.equals(IMAGE)).to.equal(true);
      });
    }

    it('when the server answers with malformed HTTP, then it fails without retry', async () => {
      const err = await rejection(
        fetcher.fetch(`${base}/malformed`, { bytes: LIMIT, setting: 'TEST_LIMIT' }),
      );
      expect(err.message).to.equal('Failed to download media from URL: malformed HTTP response');
      expect(err.retryable).to.equal(false);
    });

    it('when the gzip body is corrupt, then it fails without retry', async () => {
      const err = await rejection(fetcher.fetch(`${base}/bad-gzip`, { bytes: LIMIT, setting: 'TEST_LIMIT' }));
      expect(err.message).to.equal('Failed to download media from URL: corrupt compressed body');
      expect(err.retryable).to.equal(false);
    });

    it('when the Content-Encoding is unknown, then it fails without retry', async () => {
      const err = await rejection(fetcher.fetch(`${base}/compress`, { bytes: LIMIT, setting: 'TEST_LIMIT' }));
      expect(err.message).to.equal('Failed to download media from URL: unsupported Content-Encoding');
      expect(err.retryable).to.equal(false);
    });
  });

  describe('fetch into a file', () => {
    /** A body written to `file` whatever its head. */
    const toFile = (file: string) => ({
      memoryBytes: 0,
      toFile: () => true,
      file: () => Promise.resolve(file),
    });
    it('when the fetch succeeds, then the file holds the body and its size is reported', async () => {
      const file = path.join(tmp, 'ok.bin');
      const result = await fetcher.fetch(`${base}/image`, {
        bytes: LIMIT,
        setting: 'TEST_LIMIT',
        target: toFile(file),
      });
      expect(result).to.deep.equal({
        sniffed: { kind: 'unknown' },
        file,
        size: IMAGE.length,
        contentType: 'image/jpeg',
        finalUrl: `${base}/image`,
      });
      expect((await readFile(file)).equals(IMAGE)).to.equal(true);
    });

    it('when the body exceeds the limit mid-stream, then it fails with 413 and no file is left', async () => {
      const file = path.join(tmp, 'big.bin');
      const err = await rejection(
        fetcher.fetch(`${base}/undeclared-big`, {
          bytes: LIMIT,
          setting: 'TEST_LIMIT',
          target: toFile(file),
        }),
      );
      expect(err.httpStatus).to.equal(413);
      expect(await exists(file)).to.equal(false);
    });

    it('when the server stalls mid-body, then no partial file is left', async () => {
      const file = path.join(tmp, 'stall.bin');
      const err = await rejection(
        fetcher.fetch(`${base}/stall`, { bytes: LIMIT, setting: 'TEST_LIMIT', target: toFile(file) }),
      );
      expect(err.retryable).to.equal(true);
      expect(await exists(file)).to.equal(false);
    });

    it('when the file cannot be written, then the file system error surfaces, not a download failure', async () => {
      const file = path.join(tmp, 'no-such-dir', 'x.bin');
      const err = await rejection(
        fetcher.fetch(`${base}/image`, { bytes: LIMIT, setting: 'TEST_LIMIT', target: toFile(file) }),
      );
      expect(err).not.to.be.instanceOf(AppError);
      expect((err as NodeJS.ErrnoException).code).to.equal('ENOENT');
    });

    const headRules = (file: string, stopAt: (sniffed: SniffedMedia) => boolean) => ({
      bytes: 100 * LIMIT,
      setting: 'TEST_LIMIT',
      rangeRead: { minBytes: 100 * LIMIT, accept: () => false },
      stopAt,
      target: toFile(file),
    });

    it('when the range probe shows bytes that stopAt refuses, then nothing more is fetched and no file is made', async () => {
      const file = path.join(tmp, 'stopped-ranged.bin');
      const result = await fetcher.fetch(`${base}/mp4-ranges/${LIMIT}`, headRules(file, isVideo));
      expect(result).to.deep.equal({ stopped: true });
      expect(mp4).to.deep.equal({ requests: 1, bytesSent: 4096 });
      expect(await exists(file)).to.equal(false);
    });

    it('when the origin ignores Range and sends a whole video that stopAt refuses, then the transfer stops at its head', async () => {
      const file = path.join(tmp, 'stopped-whole.bin');
      const size = 64 * LIMIT;
      const result = await fetcher.fetch(`${base}/mp4-whole/${size}`, headRules(file, isVideo));
      expect(result).to.deep.equal({ stopped: true });
      expect(await exists(file)).to.equal(false);
      // What the sockets' buffers took before the transfer was cut, far below the file.
      expect(mp4.requests).to.equal(1);
      expect(mp4.bytesSent).to.be.lessThan(size / 4);
    });

    it('when stopAt lets the bytes through, then bodies longer and shorter than the head are written whole', async () => {
      const long = path.join(tmp, 'passed-long.bin');
      const size = 300 * 1024 + 5;
      const passed = await fetcher.fetch(
        `${base}/mp4-whole/${size}`,
        headRules(long, () => false),
      );
      expect(passed).to.include({ size, file: long });
      const written = await readFile(long);
      expect(written).to.have.length(size);
      expect(written.subarray(0, 64 * 1024).equals(mp4Bytes(64 * 1024))).to.equal(true);
      const short = path.join(tmp, 'passed-short.bin');
      await fetcher.fetch(`${base}/image`, headRules(short, isVideo));
      expect((await readFile(short)).equals(IMAGE)).to.equal(true);
    });

    it('when a body is no video and fits memoryBytes, then it stays in memory and no file is asked for; a video or a larger body goes to the file', async () => {
      let asked = 0;
      const target = (file: string, memoryBytes: number) => ({
        memoryBytes,
        toFile: isVideo,
        file: () => {
          asked += 1;
          return Promise.resolve(file);
        },
      });
      const limits = { bytes: 100 * LIMIT, setting: 'TEST_LIMIT' };
      const image = await fetcher.fetch(`${base}/image`, { ...limits, target: target('unused', LIMIT) });
      expect(image.bytes?.equals(IMAGE)).to.equal(true);
      expect(asked).to.equal(0);
      const video = path.join(tmp, 'video.bin');
      const size = 64 * 1024;
      const fetchedVideo = await fetcher.fetch(`${base}/mp4-whole/${size}`, {
        ...limits,
        target: target(video, LIMIT),
      });
      expect(fetchedVideo).to.include({ file: video, size });
      expect(fetchedVideo.sniffed).to.include({ kind: 'video', format: 'mp4' });
      const large = path.join(tmp, 'large.bin');
      const fetchedLarge = await fetcher.fetch(`${base}/image`, {
        ...limits,
        target: target(large, IMAGE.length - 1),
      });
      expect(fetchedLarge).to.include({ file: large, size: IMAGE.length });
      expect((await readFile(large)).equals(IMAGE)).to.equal(true);
      expect(asked).to.equal(2);
    });

    it('when the address is refused, then no file is created', async () => {
      const file = path.join(tmp, 'refused.bin');
      const err = await rejection(
        guarded.fetch(`${base}/image`, { bytes: LIMIT, setting: 'TEST_LIMIT', target: toFile(file) }),
      );
      expect(err.message).to.equal(ADDRESS_REFUSED);
      expect(await exists(file)).to.equal(false);
    });
  });

  describe('postJson', () => {
    it('when posting, then the server receives the JSON body and headers and the status comes back', async () => {
      const result = await poster.postJson(`${base}/webhook`, JSON.stringify({ job_id: 'j1', faces: 2 }), {
        'x-signature': 'abc',
      });
      expect(result.status).to.equal(204);
      expect(posts).to.have.length(1);
      expect(JSON.parse(posts[0]?.body ?? '')).to.deep.equal({ job_id: 'j1', faces: 2 });
      expect(posts[0]?.headers['content-type']).to.equal('application/json');
      expect(posts[0]?.headers['x-signature']).to.equal('abc');
    });

    it('when the webhook redirects, then the redirect is reported, not followed', async () => {
      const result = await poster.postJson(`${base}/redirect/0`, '{}', {});
      expect(result.status).to.equal(302);
    });

    it('when the webhook is on loopback and private addresses are not allowed, then it is refused', async () => {
      const err = await rejection(guardedPoster.postJson(`${base}/webhook`, '{}', {}));
      expect(err.message).to.equal(ADDRESS_REFUSED);
      expect(posts).to.have.length(0);
    });

    it('when the webhook URL is not HTTP, then it fails with "Invalid URL format"', async () => {
      const err = await rejection(poster.postJson('file:///etc/passwd', '{}', {}));
      expect(err.message).to.equal('Invalid URL format');
    });
  });
});
