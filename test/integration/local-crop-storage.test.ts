import { expect } from 'chai';
import fc from 'fast-check';
import express from 'express';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createCropsRouter } from '../../api/routes/crops.router.js';
import { StorageError } from '../../shared/errors/errors.js';
import { createLogger } from '../../shared/logging/logger.js';
import {
  LocalCropStorage,
  type LocalCropStorageOptions,
} from '../../shared/storage/local-crop-storage.repository.js';
import { CropLinkSigner, type LinkSecrets } from '../../shared/storage/crop-link-signer.js';
import { nearSignatures, respellings } from '../support/signatures.js';

const logger = createLogger('silent', 'test');
const TTL_S = 3600;
const NOT_FOUND = { error_code: 1, error_msg: 'Crop not found or expired', faces_obj: {} };
const FORBIDDEN =
  'This crop link is not signed, or its signature does not match; use a face_url exactly as returned';
const SECRET = 'local-crop-storage-test-secret-0123456789';
const signer = (secrets: LinkSecrets, ttlS = TTL_S) =>
  new CropLinkSigner({ secrets: () => Promise.resolve(secrets), ttlS });

function jpeg(background: string, width = 40, height = 30): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } })
    .jpeg()
    .toBuffer();
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request: fetch would normalise `..` and percent-escapes away before they reach the server. */
function get(port: number, rawPath: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: rawPath, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Pushes a file's write time back, as if it had been written `ageS` seconds ago. */
async function age(file: string, ageS: number): Promise<void> {
  const then = new Date(Date.now() - ageS * 1000);
  await utimes(file, then, then);
}

async function listFiles(dir: string): Promise<string[]> {
  // A sweep running meanwhile may delete a folder between listing and reading it: look again.
  const all = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() =>
    readdir(dir, { recursive: true, withFileTypes: true }),
  );
  return all.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('LocalCropStorage with the crops router', function () {
  let tmp: string;
  let dataDir: string;
  let server: http.Server;
  let port: number;
  let storage: LocalCropStorage;
  const links = signer([SECRET]);
  /** The path and query of the signed link of `key`. */
  const link = (key: string) => links.sign(key);
  const extra: LocalCropStorage[] = [];

  function another(options: Partial<LocalCropStorageOptions>): LocalCropStorage {
    const created = new LocalCropStorage({ logger, urlTtlS: TTL_S, ...options });
    extra.push(created);
    return created;
  }

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'local-crop-storage-'));
    dataDir = path.join(tmp, 'data');
    const app = express();
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    storage = new LocalCropStorage({ dataDir, urlTtlS: TTL_S, logger });
    // The router checks links against the current secret and, during a rotation, a previous one.
    app.use(createCropsRouter(storage, signer([SECRET, 'an-earlier-secret-that-is-still-accepted'])));
    await storage.init();
  });

  after(async () => {
    await Promise.all([storage, ...extra].map((s) => s.close()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(tmp, { recursive: true, force: true });
  });

  it('when crops are stored, then each is a file under the data dir and its signed link serves the exact JPEG', async () => {
    const images = await Promise.all([jpeg('#c00'), jpeg('#0c0', 24, 60)]);
    const keys = await storage.putCrops('job-1', [
      { frame: 'f0', face: 0, jpeg: images[0] },
      { frame: 'f4', face: 1, jpeg: images[1] },
    ]);
    expect(keys).to.have.length(2);
    for (const [i, key] of keys.entries()) {
      expect(key).to.match(/^crops\/\d{4}-\d{2}-\d{2}\/job-1\/f\d_\d\.jpg$/);
      expect((await readFile(path.join(dataDir, key))).equals(images[i]!)).to.equal(true);
      const signed = await link(key);
      expect(signed).to.match(/^\/crops\/\S+\.jpg\?exp=\d+&sig=[\w-]{43}$/);
      const got = await get(port, signed);
      expect(got.status).to.equal(200);
      expect(got.headers['content-type']).to.equal('image/jpeg');
      const maxAge = Number(/^private, max-age=(\d+)$/.exec(got.headers['cache-control'] ?? '')?.[1]);
      expect(maxAge).to.be.within(TTL_S - 5, TTL_S);
      expect(got.body.equals(images[i]!)).to.equal(true);
    }
    expect((await listFiles(dataDir)).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('when a link is bare, tampered, for another key, or expired, then 403 says why and nothing is served', async () => {
    const image = await jpeg('#00c');
    const [key, other] = await storage.putCrops('job-2', [
      { frame: 'f0', face: 0, jpeg: image },
      { frame: 'f0', face: 1, jpeg: image },
    ]);
    const signed = await link(key!);
    const sig = new URL(signed, 'http://x').searchParams.get('sig')!;
    const exp = new URL(signed, 'http://x').searchParams.get('exp')!;
    const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const refusals = [
      `/${key}`,
      `/${key}?exp=${exp}`,
      `/${key}?exp=${exp}&sig=${flipped}`,
      `/${key}?exp=${Number(exp) + 1}&sig=${sig}`,
      `/${other}?exp=${exp}&sig=${sig}`,
      await signer(['a-secret-this-service-never-had-0123456789']).sign(key!),
    ];
    for (const attempt of refusals) {
      const got = await get(port, attempt);
      expect(got.status, attempt).to.equal(403);
      expect(JSON.parse(got.body.toString()).error_msg, attempt).to.match(
        /not signed, or its signature does not match/,
      );
    }
    const expired = await links.sign(key!, Date.now() - (TTL_S + 60) * 1000);
    const late = await get(port, expired);
    expect(late.status).to.equal(403);
    expect(JSON.parse(late.body.toString()).error_msg).to.match(/has expired/);
    expect((await get(port, signed)).body.equals(image)).to.equal(true);
  });

  it('when a link is spelled any other way than signed (its signature padded, in standard base64, with spare bits set or stray characters, its expiry with leading zeros), then 403', async () => {
    const image = await jpeg('#0cc');
    const keys = await storage.putCrops(
      'job-10',
      Array.from({ length: 20 }, (_, face) => ({ frame: 'f0', face, jpeg: image })),
    );
    // A signature holding '-' or '_', so that standard base64 spells it otherwise.
    const signed = (await Promise.all(keys.map(link))).find((l) => /sig=.*[-_]/.test(l))!;
    const url = new URL(signed, 'http://x');
    const [exp, sig] = [url.searchParams.get('exp')!, url.searchParams.get('sig')!];
    const linkWith = (e: string, s: string) =>
      `${url.pathname}?exp=${encodeURIComponent(e)}&sig=${encodeURIComponent(s)}`;
    expect((await get(port, linkWith(exp, sig))).status).to.equal(200);
    const attempts = [
      ...respellings(sig).map((s) => linkWith(exp, s)),
      linkWith(`0${exp}`, sig),
      `${url.pathname}?exp=${exp}&sig=${sig}&sig=${sig}`,
    ];
    for (const attempt of attempts) {
      const got = await get(port, attempt);
      expect(got.status, attempt).to.equal(403);
      expect(JSON.parse(got.body.toString()).error_msg, attempt).to.match(/not signed, or its signature/);
    }
    await fc.assert(
      fc.asyncProperty(nearSignatures(sig), async (other) => {
        fc.pre(other !== sig);
        expect((await get(port, linkWith(exp, other))).status).to.equal(403);
      }),
      { numRuns: 150 },
    );
  });

  it('when a link is spelled otherwise than signed (percent-escapes in its path or signature, %2F for /, exp and sig swapped, a parameter added), then 403', async () => {
    const image = await jpeg('#c0c');
    const [key] = await storage.putCrops('job-11', [{ frame: 'f0', face: 0, jpeg: image }]);
    const signed = await link(key!);
    expect((await get(port, signed)).status).to.equal(200);
    const url = new URL(signed, 'http://x');
    const [exp, sig] = [url.searchParams.get('exp')!, url.searchParams.get('sig')!];
    const escape = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
    const [, , day, job, file] = url.pathname.split('/');
    const attempts = [
      `/crops/${day}/${escape(job![0]!)}${job!.slice(1)}/${file}?exp=${exp}&sig=${sig}`,
      `/crops/${day}%2F${job}/${file}?exp=${exp}&sig=${sig}`,
      `/crops/${day}/${job}%2f${file}?exp=${exp}&sig=${sig}`,
      `${url.pathname}?exp=${exp}&sig=${escape(sig[0]!)}${sig.slice(1)}`,
      `${url.pathname}?exp=${escape(exp[0]!)}${exp.slice(1)}&sig=${sig}`,
      `${url.pathname}?sig=${sig}&exp=${exp}`,
      `${url.pathname}?exp=${exp}&sig=${sig}&x=1`,
      `${url.pathname}?x=1&exp=${exp}&sig=${sig}`,
      `${url.pathname}?exp=${exp}&sig=${sig}&`,
      `${url.pathname}?exp=${exp}&&sig=${sig}`,
      `/${url.pathname.slice(1).replace('/', '//')}?exp=${exp}&sig=${sig}`,
    ];
    const answers = [];
    for (const attempt of attempts) {
      const got = await get(port, attempt);
      const said = got.status === 200 ? 'served the crop' : JSON.parse(got.body.toString()).error_msg;
      answers.push(`${got.status} ${said} ${attempt}`);
    }
    expect(answers).to.deep.equal(attempts.map((a) => `403 ${FORBIDDEN} ${a}`));
  });

  it('when the secret is rotated, then links of the previous one work while it is kept, and fail once it is dropped', async () => {
    const image = await jpeg('#0c0');
    const [key] = await storage.putCrops('job-9', [{ frame: 'f0', face: 0, jpeg: image }]);
    const byPrevious = await signer(['an-earlier-secret-that-is-still-accepted']).sign(key!);
    expect((await get(port, byPrevious)).status).to.equal(200);
    const dropped = express().use(createCropsRouter(storage, signer([SECRET])));
    const later = http.createServer(dropped);
    await new Promise<void>((resolve) => later.listen(0, '127.0.0.1', resolve));
    try {
      expect((await get((later.address() as AddressInfo).port, byPrevious)).status).to.equal(403);
    } finally {
      later.closeAllConnections();
      await new Promise<void>((resolve) => later.close(() => resolve()));
    }
  });

  it('when a crop is older than the TTL, then it is not served and the sweep deletes it and its folder', async () => {
    const image = await jpeg('#999');
    const [stale] = await storage.putCrops('job-3', [{ frame: 'f0', face: 0, jpeg: image }]);
    const [fresh] = await storage.putCrops('job-4', [{ frame: 'f0', face: 0, jpeg: image }]);
    const staleFile = path.join(dataDir, stale!);
    await age(staleFile, TTL_S + 1);

    const refused = await get(port, await link(stale!));
    expect(refused.status).to.equal(404);
    expect(JSON.parse(refused.body.toString())).to.deep.equal(NOT_FOUND);

    expect(await storage.sweepExpired()).to.equal(1);
    const left = await listFiles(dataDir);
    expect(left).to.not.include(path.relative(dataDir, staleFile));
    expect(left).to.include(fresh!);
    expect(await readdir(path.dirname(path.dirname(staleFile)))).to.not.include(
      path.basename(path.dirname(staleFile)),
    );
    expect((await get(port, await link(fresh!))).status).to.equal(200);
  });

  it('when a day folder is older than yesterday and only holds expired crops, then the sweep removes it', async () => {
    const oldDay = path.join(dataDir, 'crops', '2001-02-03');
    const jobDir = path.join(oldDay, 'job-5-AAAAAAAAAAAAAAAAAAAAAA');
    await mkdir(jobDir, { recursive: true });
    await writeFile(path.join(jobDir, 'f0_0.jpg'), await jpeg('#111'));
    await writeFile(path.join(jobDir, 'f0_1.jpg.0b1c.tmp'), 'half a crop');
    await age(path.join(jobDir, 'f0_0.jpg'), TTL_S + 60);
    await age(path.join(jobDir, 'f0_1.jpg.0b1c.tmp'), TTL_S + 60);
    expect(await storage.sweepExpired()).to.equal(2);
    expect(await readdir(path.join(dataDir, 'crops'))).to.not.include('2001-02-03');
  });

  it('when the sweep interval elapses after init, then expired crops are deleted without being asked', async () => {
    const swept = another({ dataDir: path.join(tmp, 'scheduled'), sweepIntervalMs: 50 });
    await swept.init();
    const [url] = await swept.putCrops('job-6', [{ frame: 'f0', face: 0, jpeg: await jpeg('#222') }]);
    const file = path.join(tmp, 'scheduled', url!);
    await age(file, TTL_S + 1);
    for (let i = 0; i < 40 && (await listFiles(path.join(tmp, 'scheduled'))).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await listFiles(path.join(tmp, 'scheduled'))).to.deep.equal([]);
  });

  it('when a path tries to leave the crops folder, signed or not, then it is refused and nothing is served', async () => {
    const secret = await jpeg('#f0f');
    await writeFile(path.join(dataDir, 'secret.jpg'), secret);
    const [key] = await storage.putCrops('job-7', [{ frame: 'f0', face: 0, jpeg: await jpeg('#0ff') }]);
    const jobPath = `/${path.posix.dirname(key!)}`;
    const attempts = [
      '/crops/../../etc/passwd',
      '/crops/../secret.jpg',
      '/crops/%2e%2e/%2e%2e/etc/passwd',
      '/crops/..%2f..%2fetc%2fpasswd',
      '/crops/%2E%2E%2Fsecret.jpg',
      '/crops/..%5c..%5csecret.jpg',
      `${jobPath}/..%2f..%2f..%2fsecret.jpg`,
      `${jobPath}/../../../secret.jpg`,
      `${jobPath}/f0_0.jpg%00.png`,
      `${jobPath}/.f0_0.jpg`,
      '/crops/',
      '/crops',
      '/crops/2024-01-01/job-1-AAAAAAAAAAAAAAAAAAAAAA/f0_0.jpg',
    ];
    for (const attempt of attempts) {
      // Unsigned, and signed for exactly the key the path spells: the key pattern still refuses it.
      const signedToo = await link(decodeURIComponent(attempt.slice(1)));
      for (const tried of [attempt, `${attempt}${signedToo.slice(signedToo.indexOf('?'))}`]) {
        const got = await get(port, tried);
        expect([403, 404], tried).to.include(got.status);
        expect(got.body.equals(secret), tried).to.equal(false);
        if (got.status === 404) expect(JSON.parse(got.body.toString()), tried).to.deep.equal(NOT_FOUND);
      }
    }
    expect((await get(port, await link(key!))).status).to.equal(200);
  });

  it('when the data dir cannot be created, then init and check fail with a StorageError', async () => {
    // A regular file where a folder should be: unwritable even for root, unlike a chmod.
    const blocker = path.join(tmp, 'blocker');
    await writeFile(blocker, 'not a folder');
    const broken = another({ dataDir: path.join(blocker, 'data') });
    for (const attempt of [() => broken.init(), () => broken.check()]) {
      const err = await attempt().then(
        () => expect.fail('an unwritable data dir was accepted'),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(StorageError);
      expect((err as StorageError).message).to.match(/^Object storage failed: .*crop directory .*ENOTDIR/);
    }
  });

  it('when writing fails after init, then putCrops fails with a StorageError naming storage', async () => {
    const root = path.join(tmp, 'vanishing');
    const failing = another({ dataDir: root });
    await failing.init();
    await rm(path.join(root, 'crops'), { recursive: true });
    await writeFile(path.join(root, 'crops'), 'not a folder');
    const err = await failing.putCrops('job-8', [{ frame: 'f0', face: 0, jpeg: await jpeg('#c00') }]).then(
      () => expect.fail('putCrops succeeded without a crops folder'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StorageError);
    expect((err as StorageError).message).to.match(
      /^Object storage failed: could not create crops\/\S+: ENOTDIR on mkdir$/,
    );
    expect((err as StorageError).message).to.not.include(root);
  });
});
