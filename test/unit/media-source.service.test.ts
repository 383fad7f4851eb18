import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { AppError } from '../../shared/errors/app-error.js';
import {
  MediaExpiredError,
  PayloadTooLargeError,
  UnsupportedMediaError,
} from '../../shared/errors/errors.js';
import { WorkerMetrics } from '../../shared/metrics/metrics.js';
import type { MediaBlobRepository } from '../../shared/queue/media-blob.repository.js';
import { sniffMedia, type SniffedMedia } from '../../shared/media/media-sniffer.js';
import type {
  FetchAnswer,
  FetchLimits,
  HeadRules,
  RangedMedia,
  StoppedAtHead,
} from '../../worker/fetch/media-fetcher.js';
import {
  MediaSourceService,
  type MediaSourceOptions,
  type UrlFetcher,
} from '../../worker/services/media-source.service.js';

/** A 1×1 PNG: file-type reads a PNG's chunks, so it takes a real one. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom'), Buffer.alloc(52)]);
const OPTIONS: MediaSourceOptions = { maxImageBytes: 100, maxVideoBytes: 5000, rangeReadMinBytes: 2000 };

class FakeBlobs implements Pick<MediaBlobRepository, 'get'> {
  constructor(private readonly stored: Map<string, Buffer>) {}

  get(key: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.stored.get(key));
  }
}

/** An origin's answer: a body downloaded whole, a file to read by range, or a fetch stopped at its head. */
type Answer = { body: Buffer } | RangedMedia | StoppedAtHead;

/**
 * Answers every fetch with `answer` and records the limits it was given. A body goes where the MediaFetcher
 * puts it: to the target's file when its sniffed head or its size says so, else into memory.
 */
class FakeFetcher implements UrlFetcher {
  readonly limits: (FetchLimits & HeadRules)[] = [];
  files = 0;

  constructor(private readonly answer: Answer) {}

  async fetch(url: string, limits: FetchLimits & HeadRules): Promise<FetchAnswer> {
    this.limits.push(limits);
    if (!('body' in this.answer)) return this.answer;
    const { body } = this.answer;
    const sniffed = await sniffMedia(body);
    const fetched = { sniffed, size: body.length, contentType: undefined, finalUrl: url };
    const { target } = limits;
    if (!target || (!target.toFile(sniffed) && body.length <= target.memoryBytes)) {
      return { ...fetched, bytes: body };
    }
    const file = await target.file();
    this.files += 1;
    await writeFile(file, body);
    return { ...fetched, file };
  }
}

const sniffedPng: SniffedMedia = { kind: 'image', format: 'png', mime: 'image/png' };
const ranged = (version: RangedMedia['version']): RangedMedia => ({
  ranged: true,
  sniffed: { kind: 'video', format: 'mp4', mime: 'video/mp4' },
  version,
  finalUrl: 'https://cdn.example/v.mp4',
});

describe('MediaSourceService', () => {
  let workDir: string;
  const makeWorkDir = () => Promise.resolve(workDir);
  const url = { kind: 'url' as const, url: 'https://media.example/file' };

  beforeEach(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'media-source-test-'));
  });
  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  function setUp(answer: Answer, stored = new Map<string, Buffer>()) {
    const registry = new Registry();
    const fetcher = new FakeFetcher(answer);
    const service = new MediaSourceService(
      new FakeBlobs(stored),
      fetcher,
      OPTIONS,
      new WorkerMetrics(registry),
    );
    const downloaded = async () =>
      (await registry.getSingleMetric('media_download_bytes_total')!.get()).values[0]?.value ?? 0;
    return { fetcher, service, downloaded };
  }

  async function refusal(promise: Promise<unknown>): Promise<AppError> {
    return promise.then(
      () => expect.fail('expected a refusal'),
      (err: AppError) => err,
    );
  }

  it('when an upload is still in Redis, then its bytes are the image and nothing is fetched', async () => {
    const { fetcher, service } = setUp({ body: PNG }, new Map([['k1', PNG]]));
    expect(await service.load({ kind: 'blob', key: 'k1', bytes: PNG.length }, makeWorkDir)).to.deep.equal({
      kind: 'image',
      bytes: PNG,
      sniffed: sniffedPng,
    });
    expect(fetcher.limits).to.deep.equal([]);
  });

  it('when an upload expired from Redis, then the job fails with MEDIA_EXPIRED (410)', async () => {
    const { service } = setUp({ body: PNG });
    const err = await refusal(service.load({ kind: 'blob', key: 'gone', bytes: 1 }, makeWorkDir));
    expect(err).to.be.instanceOf(MediaExpiredError);
    expect(err.httpStatus).to.equal(410);
  });

  it('when a URL is fetched, then the download is bounded by the video limit and the range rule uses RANGE_READ_MIN_BYTES', async () => {
    const { fetcher, service } = setUp({ body: PNG });
    await service.load(url, makeWorkDir);
    const [limits] = fetcher.limits;
    expect(limits).to.include({ bytes: OPTIONS.maxVideoBytes, setting: 'MAX_VIDEO_BYTES' });
    expect(limits!.rangeRead.minBytes).to.equal(OPTIONS.rangeReadMinBytes);
  });

  it('when the range rule sees a first chunk, then only a video is read by range, never an image or unknown bytes', async () => {
    const { fetcher, service } = setUp({ body: PNG });
    await service.load(url, makeWorkDir);
    const { rangeRead } = fetcher.limits[0]!;
    const heads = await Promise.all([MP4, PNG, Buffer.from('<html>')].map((head) => sniffMedia(head)));
    const accepted = heads.map((head) => rangeRead.accept(head));
    expect(accepted).to.deep.equal([true, false, false]);
  });

  it('when the fetcher chose to read by range, then the media is a ranged video at the final URL, and nothing counts as downloaded', async () => {
    const version = { totalBytes: 4000, etag: '"v1"' };
    const { service, downloaded } = setUp(ranged(version));
    expect(await service.load(url, makeWorkDir)).to.deep.equal({
      kind: 'ranged-video',
      url: 'https://cdn.example/v.mp4',
      version,
    });
    expect(await downloaded()).to.equal(0);
  });

  it('when a video is downloaded, then the media is its file and its bytes are counted', async () => {
    const { service, downloaded } = setUp({ body: MP4 });
    expect(await service.load(url, makeWorkDir)).to.deep.equal({
      kind: 'video',
      file: path.join(workDir, 'media'),
    });
    expect(await downloaded()).to.equal(MP4.length);
  });

  it('when an image is fetched, then the media is its bytes, kept in memory: no folder is made, no file written', async () => {
    const { fetcher, service } = setUp({ body: PNG });
    let folders = 0;
    const countingWorkDir = () => {
      folders += 1;
      return makeWorkDir();
    };
    expect(await service.load(url, countingWorkDir)).to.deep.equal({
      kind: 'image',
      bytes: PNG,
      sniffed: sniffedPng,
    });
    expect([folders, fetcher.files]).to.deep.equal([0, 0]);
    expect(fetcher.limits[0]!.target).to.include({ memoryBytes: OPTIONS.maxImageBytes });
  });

  it('when a job is asked to keep its lane, then the fetch stops at bytes of the other kind only', async () => {
    const { fetcher, service } = setUp({ stopped: true });
    expect(await service.load(url, makeWorkDir, 'image')).to.deep.equal({ kind: 'other-lane' });
    const stopAt = fetcher.limits[0]!.stopAt!;
    const heads = await Promise.all([MP4, PNG, Buffer.from('plain text')].map((head) => sniffMedia(head)));
    expect(heads.map((head) => stopAt(head))).to.deep.equal([true, false, false]);
  });

  it('when a job has moved lanes already, then its fetch never stops at its head', async () => {
    const { fetcher, service } = setUp({ body: PNG });
    await service.load(url, makeWorkDir);
    expect(fetcher.limits[0]!.stopAt).to.equal(undefined);
  });

  it('when the URL answers with no bytes, then it is refused as unsupported media', async () => {
    const { service } = setUp({ body: Buffer.alloc(0) });
    const err = await refusal(service.load(url, makeWorkDir));
    expect(err).to.be.instanceOf(UnsupportedMediaError);
    expect(err.message).to.equal('The URL returned no data (0 bytes); point it at an image or a video');
  });

  it('when a downloaded image is above MAX_IMAGE_BYTES, then it is refused with a 413', async () => {
    const { service } = setUp({ body: Buffer.concat([PNG, Buffer.alloc(OPTIONS.maxImageBytes)]) });
    const err = await refusal(service.load(url, makeWorkDir));
    expect(err).to.be.instanceOf(PayloadTooLargeError);
    expect(err.message).to.match(/MAX_IMAGE_BYTES/);
  });

  it('when the URL returns an SVG or a web page, then each is refused with its own reason', async () => {
    const svg = await refusal(
      setUp({ body: Buffer.from('<?xml version="1.0"?>\n<svg xmlns="x"/>') }).service.load(url, makeWorkDir),
    );
    expect(svg.message).to.match(/^Images in SVG format are not accepted/);
    const page = await refusal(
      setUp({ body: Buffer.from('<!doctype html><p>hi') }).service.load(url, makeWorkDir),
    );
    expect(page.message).to.equal(
      'The URL returned a text or HTML page, not an image or a video; link to the media file itself',
    );
  });
});
