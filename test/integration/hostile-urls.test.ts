import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { isPublicAddress } from '../../shared/net/address-guard.js';
import { URL_REFUSALS } from '../../shared/errors/errors.js';
import { image } from '../support/fixtures.js';
import {
  AnswerLog,
  expectError,
  expectNoLeaks,
  expectStillDetects,
  privateTmpdir,
  type PrivateTmpdir,
} from '../support/hostile.js';
import { startService, type TestService } from '../support/service.js';

const REFUSED = `'url' is refused: ${URL_REFUSALS.address}`;
const REDIRECT_REFUSED = `'url' is refused: ${URL_REFUSALS.redirectAddress}`;

interface Host {
  base: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** A fixture server on `address` that counts requests by path. */
async function host(address: string, handler: http.RequestListener): Promise<Host> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return {
    base: `http://${address}:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('hostile URLs with ALLOW_PRIVATE_URLS=false: nothing internal is reached', function () {
  const log = new AnswerLog();
  let svc: TestService;
  let internal: Host;
  let publicHost: Host;
  let obama: Buffer;
  const detectUrl = (url: string) => log.post(`${svc.url}/detect`, { url });

  before(async () => {
    obama = await readFile(image('obama.jpg'));
    internal = await host('127.0.0.1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(obama);
    });
    publicHost = await host('127.0.0.2', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const to = url.searchParams.get('to');
      if (url.pathname === '/hop')
        res.writeHead(302, { location: `/redirect?to=${encodeURIComponent(to ?? '')}` }).end();
      else if (url.pathname === '/redirect') res.writeHead(302, { location: to ?? '/' }).end();
      else res.writeHead(200, { 'content-type': 'image/jpeg' }).end(obama);
    });
    // The real rule, except that 127.0.0.2 stands for a public host: the start of a redirect chain.
    svc = await startService(
      { ALLOW_PRIVATE_URLS: 'false' },
      { isAllowedAddress: (ip) => ip === '127.0.0.2' || isPublicAddress(ip) },
    );
  });
  after(async () => {
    await svc?.stop();
    await internal?.close();
    await publicHost?.close();
  });

  it('when the URL names a loopback, private or metadata address, then 400 says the address is refused', async () => {
    const port = new URL(internal.base).port;
    for (const url of [
      `${internal.base}/obama.jpg`,
      `http://localhost:${port}/obama.jpg`,
      `http://[::1]:${port}/obama.jpg`,
      `http://0.0.0.0:${port}/obama.jpg`,
      `http://2130706433:${port}/obama.jpg`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/a.jpg',
      'http://[fd00::1]/a.jpg',
    ]) {
      expectError(await detectUrl(url), 400, REFUSED);
    }
    expect(internal.hits.size, 'the internal server was reached').to.equal(0);
  });

  it('when a redirect chain from a public host ends at loopback or a metadata address, then 400 and the target is never reached', async () => {
    const chain = (to: string) => `${publicHost.base}/hop?to=${encodeURIComponent(to)}`;
    expectError(await detectUrl(chain(`${internal.base}/obama.jpg`)), 400, REDIRECT_REFUSED);
    expectError(await detectUrl(chain('http://169.254.169.254/latest/meta-data/')), 400, REDIRECT_REFUSED);
    expect(publicHost.hits.get('/hop')).to.equal(2);
    expect(publicHost.hits.get('/redirect')).to.equal(2);
    expect(internal.hits.size, 'the internal server was reached').to.equal(0);
  });

  it('when a redirect leads to a non-HTTP scheme, then 400 says so', async () => {
    expectError(
      await detectUrl(`${publicHost.base}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`),
      400,
      `'url' is refused: ${URL_REFUSALS.redirectScheme}`,
    );
  });

  it('when the URL is file://, ftp://, gopher:// or another non-HTTP scheme, then 400 Invalid URL format', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.com/a.jpg',
      'gopher://127.0.0.1:6379/_FLUSHALL',
      'dict://127.0.0.1:6379/info',
      'javascript:alert(1)',
      'data:image/jpeg;base64,AAAA',
      'http://',
      '//example.com/a.jpg',
      'not a url',
    ]) {
      expectError(await detectUrl(url), 400, 'Invalid URL format');
    }
  });

  it('when the hostile URLs are over, then a public host still works, no answer leaked internals, and detection works', async () => {
    const answer = await detectUrl(`${publicHost.base}/obama.jpg`);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body.faces_obj['0'].region).to.have.length(1);
    await expectStillDetects(svc, log);
    expectNoLeaks(log);
  });
});

describe('hostile servers: stalls, endless and lying bodies, compression bombs', function () {
  this.timeout(30_000);
  const log = new AnswerLog();
  const MAX_IMAGE_BYTES = 300_000;
  const MAX_VIDEO_BYTES = 400_000;
  const tooLarge = `Media at the URL is larger than the ${MAX_VIDEO_BYTES}-byte limit (MAX_VIDEO_BYTES); use a smaller file`;
  const timers = new Set<NodeJS.Timeout>();
  let tmp: PrivateTmpdir | undefined;
  let svc: TestService;
  let evil: Host;
  const detectPath = (path: string) => log.post(`${svc.url}/detect`, { url: `${evil.base}${path}` });

  before(async () => {
    const obama1080 = await readFile(image('obama-1080p.jpg'));
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
    evil = await host('127.0.0.1', (req, res) => {
      const every = (ms: number, tick: () => void) => {
        const timer = setInterval(tick, ms);
        timers.add(timer);
        res.on('close', () => {
          clearInterval(timer);
          timers.delete(timer);
        });
      };
      switch (new URL(req.url ?? '/', 'http://x').pathname) {
        case '/stall.jpg':
          // Headers and a first chunk, then silence with the connection open.
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          res.write(Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
          return;
        case '/trickle.jpg':
          // A byte every 100 ms forever: never stalled, never done.
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          every(100, () => res.write(Buffer.from([0x00])));
          return;
        case '/endless.mp4':
          res.writeHead(200, { 'content-type': 'video/mp4' });
          every(1, () => res.write(Buffer.alloc(64 * 1024)));
          return;
        case '/huge-length.mp4':
          // Declares 10 GB and sends a few bytes: refused from the header alone.
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(10 * 1024 ** 3) });
          res.write(Buffer.alloc(16));
          return;
        case '/short-body.jpg':
          // Promises 5000 bytes, sends 100 and hangs up.
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': '5000' });
          res.write(Buffer.alloc(100), () => res.destroy());
          return;
        case '/bomb.jpg':
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' }).end(bomb);
          return;
        case '/big.jpg':
          res.writeHead(200, { 'content-type': 'image/jpeg' }).end(obama1080);
          return;
        default:
          res.writeHead(404).end();
      }
    });
    tmp = await privateTmpdir();
    svc = await startService({
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '50',
      DOWNLOAD_STALL_TIMEOUT_MS: '500',
      DOWNLOAD_TIMEOUT_MS: '1000',
      MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
      MAX_VIDEO_BYTES: String(MAX_VIDEO_BYTES),
    });
  });
  after(async () => {
    for (const timer of timers) clearInterval(timer);
    await svc?.stop();
    await evil?.close();
    await tmp?.restore();
  });

  it('when the server goes silent mid-body, then 502 after DOWNLOAD_STALL_TIMEOUT_MS, retried once', async () => {
    expectError(await detectPath('/stall.jpg'), 502, 'Failed to download media from URL: no data for 500 ms');
    expect(evil.hits.get('/stall.jpg')).to.equal(2);
  });

  it('when the body trickles forever, then 502 after DOWNLOAD_TIMEOUT_MS', async () => {
    expectError(
      await detectPath('/trickle.jpg'),
      502,
      'Failed to download media from URL: timed out after 1000 ms',
    );
  });

  it('when the body never ends, then 413 names the download limit', async () => {
    expectError(await detectPath('/endless.mp4'), 413, tooLarge);
    expect(evil.hits.get('/endless.mp4')).to.equal(1);
  });

  it('when Content-Length claims more than the limit, then 413 without reading the body', async () => {
    expectError(await detectPath('/huge-length.mp4'), 413, tooLarge);
    expect(evil.hits.get('/huge-length.mp4')).to.equal(1);
  });

  it('when the body is shorter than its Content-Length, then 502 says the connection closed early', async () => {
    expectError(
      await detectPath('/short-body.jpg'),
      502,
      /^Failed to download media from URL: connection (closed before the body was complete|reset)$/,
    );
  });

  it('when the body is a gzip bomb (50 MB of zeros in 50 kB), then 413 names the limit', async () => {
    expectError(await detectPath('/bomb.jpg'), 413, tooLarge);
  });

  it('when an image download is within MAX_VIDEO_BYTES but over MAX_IMAGE_BYTES, then 413 names MAX_IMAGE_BYTES', async () => {
    expectError(
      await detectPath('/big.jpg'),
      413,
      `The image is 387393 bytes, above the ${MAX_IMAGE_BYTES}-byte limit (MAX_IMAGE_BYTES); send a smaller image`,
    );
  });

  it('when the hostile servers are done, then no download is left on disk, no answer leaked internals, and detection works', async () => {
    expect(await tmp!.scratchLeft(svc)).to.deep.equal([]);
    await expectStillDetects(svc, log);
    expectNoLeaks(log);
  });
});
