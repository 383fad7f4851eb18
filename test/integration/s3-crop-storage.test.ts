import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import sharp from 'sharp';
import { StorageError } from '../../shared/errors/errors.js';
import express from 'express';
import type { Readable } from 'node:stream';
import { createCropsRouter } from '../../api/routes/crops.router.js';
import { S3CropStorage, type S3CropStorageOptions } from '../../shared/storage/s3-crop-storage.repository.js';
import { CropLinkSigner, type LinkSecrets } from '../../shared/storage/crop-link-signer.js';

async function readAll(stream: Readable | undefined): Promise<Buffer> {
  if (!stream) expect.fail('the crop was not found');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const BUCKET = 'face-crops';
const KEY_RE = /^crops\/(\d{4}-\d{2}-\d{2})\/(job-7)\/f(\d+)_(\d+)\.jpg$/;

interface FakeS3 {
  port: number;
  /** Most uploads of crops the server was handling at one time. */
  maxConcurrentPuts: number;
  close(): Promise<void>;
}

/**
 * s3rver behind our own HTTP server, which can hold each crop upload for `putDelayMs` and counts how
 * many it holds at once: that is how many the client really had in flight.
 */
async function startFakeS3(directory: string, putDelayMs = 0): Promise<FakeS3> {
  const handle = new S3rver({ directory, silent: true }).callback();
  let inFlight = 0;
  const fake = { port: 0, maxConcurrentPuts: 0, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    if (req.method !== 'PUT' || !req.url?.includes('/crops/')) {
      handle(req, res);
      return;
    }
    inFlight++;
    fake.maxConcurrentPuts = Math.max(fake.maxConcurrentPuts, inFlight);
    res.on('close', () => inFlight--);
    setTimeout(() => handle(req, res), putDelayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as AddressInfo).port;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return fake;
}

function options(port: number, extra: Partial<S3CropStorageOptions> = {}): S3CropStorageOptions {
  return {
    endpoint: '127.0.0.1',
    port,
    useSSL: false,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    bucket: BUCKET,
    ...extra,
  };
}

function jpeg(background: string, width = 40, height = 30): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } })
    .jpeg()
    .toBuffer();
}

describe('S3CropStorage against s3rver', function () {
  let dir: string;
  let s3: FakeS3;
  const storages: S3CropStorage[] = [];

  function storage(extra: Partial<S3CropStorageOptions> = {}, port = s3.port): S3CropStorage {
    const created = new S3CropStorage(options(port, extra));
    storages.push(created);
    return created;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 's3-crop-storage-'));
    s3 = await startFakeS3(path.join(dir, 'main'), 40);
  });

  after(async () => {
    await Promise.all(storages.map((s) => s.close()));
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('when the bucket is missing, then init creates it and check passes', async () => {
    expect((await fetch(`http://127.0.0.1:${s3.port}/${BUCKET}`)).status).to.equal(404);
    const crops = storage();
    await crops.init();
    expect((await fetch(`http://127.0.0.1:${s3.port}/${BUCKET}`)).status).to.equal(200);
    await crops.check();
  });

  it('when several processes create the same bucket at once, then every init succeeds', async () => {
    const racers = [1, 2, 3].map(() => storage({ bucket: 'raced-bucket' }));
    await Promise.all(racers.map((r) => r.init()));
    await racers[0]!.check();
  });

  it('when crops are stored, then each key reads back the exact JPEG, in input order', async () => {
    const crops = storage();
    await crops.init();
    const images = await Promise.all([jpeg('#c00'), jpeg('#0c0', 32, 48), jpeg('#00c', 64, 20)]);
    const keys = await crops.putCrops(
      'job-7',
      images.map((img, i) => ({ frame: 'f0', face: i, jpeg: img })),
    );
    expect(keys).to.have.length(3);
    for (const [i, key] of keys.entries()) {
      expect(key).to.match(new RegExp(`^crops/.+/f0_${i}\\.jpg$`));
      const body = await readAll(await crops.read(key));
      expect(body.equals(images[i]!)).to.equal(true);
    }
    expect(await crops.read('crops/2001-01-01/job-7/f0_0.jpg')).to.equal(undefined);
    expect(await crops.read('secrets/../crops/x.jpg')).to.equal(undefined);
  });

  it('when the gateway serves S3 crops, then signed links work as returned, and bare, tampered, expired or retired ones get 403', async () => {
    const crops = storage();
    await crops.init();
    const image = await jpeg('#fa0');
    const [key] = await crops.putCrops('job-7', [{ frame: 'f3', face: 2, jpeg: image }]);
    const links = (secrets: LinkSecrets) =>
      new CropLinkSigner({ secrets: () => Promise.resolve(secrets), ttlS: 600 });
    const current = 'the-current-crop-link-secret-0123456789';
    const previous = 'the-previous-crop-link-secret-0123456789';
    const serve = async (secrets: LinkSecrets, paths: string[]) => {
      const server = http.createServer(express().use(createCropsRouter(crops, links(secrets))));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        return await Promise.all(
          paths.map(async (p) => {
            const res = await fetch(`${base}${p}`);
            return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
          }),
        );
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    };
    const signed = await links([current]).sign(key!);
    const byPrevious = await links([previous]).sign(key!);
    const expired = await links([current]).sign(key!, Date.now() - 3_600_000);
    const tampered = signed.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A'));
    const rotating = await serve([current, previous], [signed, byPrevious, `/${key}`, tampered, expired]);
    expect(rotating.map((r) => r.status)).to.deep.equal([200, 200, 403, 403, 403]);
    expect(rotating[0]!.body.equals(image)).to.equal(true);
    const rotated = await serve([current], [signed, byPrevious]);
    expect(rotated.map((r) => r.status)).to.deep.equal([200, 403]);
  });

  it("when crops are stored, then keys group a job's crops under today's date and the job id", async () => {
    const crops = storage();
    await crops.init();
    const image = await jpeg('#333');
    const first = await crops.putCrops('job-7', [
      { frame: 'f0', face: 0, jpeg: image },
      { frame: 'f12', face: 3, jpeg: image },
    ]);
    const again = await crops.putCrops('job-7', [{ frame: 'f0', face: 0, jpeg: image }]);
    const [a, b, c] = [...first, ...again].map((u) => {
      const match = KEY_RE.exec(u);
      expect(match, u).to.not.equal(null);
      return match!;
    }) as [RegExpExecArray, RegExpExecArray, RegExpExecArray];
    expect(a[1]).to.equal(new Date().toISOString().slice(0, 10));
    expect([a[3], a[4], b[3], b[4]]).to.deep.equal(['0', '0', '12', '3']);
    expect(a[2]).to.equal(b[2]);
    expect(c[2]).to.equal('job-7');
  });

  it('when more crops than the concurrency are stored, then exactly that many uploads are in flight', async () => {
    const own = await startFakeS3(path.join(dir, 'bounded'), 40);
    try {
      const crops = storage({ uploadConcurrency: 3 }, own.port);
      await crops.init();
      const image = await jpeg('#123');
      const urls = await crops.putCrops(
        'job-7',
        Array.from({ length: 10 }, (_, face) => ({ frame: 'f0', face, jpeg: image })),
      );
      expect(urls).to.have.length(10);
      expect(own.maxConcurrentPuts).to.equal(3);
    } finally {
      await own.close();
    }
  });

  it('when the store goes down, then putCrops and check fail with a StorageError naming storage', async () => {
    const doomed = await startFakeS3(path.join(dir, 'doomed'));
    const crops = storage({}, doomed.port);
    await crops.init();
    await doomed.close();

    const err = await crops.putCrops('job-7', [{ frame: 'f0', face: 0, jpeg: await jpeg('#c00') }]).then(
      () => expect.fail('putCrops succeeded against a stopped store'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StorageError);
    expect((err as StorageError).message).to.match(
      // Refused, or reset when a kept-alive socket to the old server is reused: either way a network fault.
      /^Object storage failed: could not upload crops\/\S+\/f0_0\.jpg: (ECONNREFUSED|ECONNRESET|socket hang up|connection)/i,
    );
    expect((err as StorageError).retryable).to.equal(true);
    const checked = await crops.check().then(
      () => expect.fail('check passed against a stopped store'),
      (e: unknown) => e,
    );
    expect(checked).to.be.instanceOf(StorageError);
    expect((checked as StorageError).message).to.match(/^Object storage failed: bucket .+ is unreachable/);
  });

  it('when the bucket does not exist, then check fails with a StorageError', async () => {
    const err = await storage({ bucket: 'never-made' })
      .check()
      .then(
        () => expect.fail('check passed without a bucket'),
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(StorageError);
    expect((err as StorageError).message).to.match(
      /^Object storage failed: bucket .*never-made does not exist$/,
    );
  });

  it('when the store accepts connections but never answers, then calls fail after the request timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const crops = storage({ requestTimeoutMs: 200 }, (silent.address() as AddressInfo).port);
      const started = Date.now();
      const err = await crops.init().then(
        () => expect.fail('init succeeded against a silent store'),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(StorageError);
      expect((err as StorageError).message).to.match(/no answer within 200 ms$/);
      expect(Date.now() - started).to.be.below(2000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
