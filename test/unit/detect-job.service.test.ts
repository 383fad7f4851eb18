import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { FacesObj } from '../../shared/contract/api-contract.js';
import type { DetectJobData, DetectOptions, QueueKind } from '../../shared/contract/detect-job.contract.js';
import type { AppError } from '../../shared/errors/app-error.js';
import type { SniffedMedia } from '../../shared/media/media-sniffer.js';
import {
  DownloadFailedError,
  MediaChangedError,
  MediaTimeoutError,
  VideoTimeoutError,
} from '../../shared/errors/errors.js';
import { WorkerMetrics } from '../../shared/metrics/metrics.js';
import type { MediaBlobRepository } from '../../shared/queue/media-blob.repository.js';
import type { DetectedPicture, PictureRequest } from '../../worker/detection/face-detection.service.js';
import type { RawImage } from '../../worker/detection/face-types.js';
import { ImagePyramid } from '../../worker/detection/image-pyramid.js';
import { planScales } from '../../worker/detection/scale-plan.js';
import { GuardedHttpClient } from '../../worker/fetch/guarded-http-client.js';
import type { FileVersion } from '../../worker/fetch/range-answer.js';
import type { BitmapConverter } from '../../worker/media/bitmap-converter.repository.js';
import type { ImageDecoder } from '../../worker/media/image-decoder.repository.js';
import type { DetectJob } from '../../worker/queue/detect-worker.repository.js';
import {
  DetectJobService,
  type DetectJobServiceOptions,
  type PictureDetector,
} from '../../worker/services/detect-job.service.js';
import type { FrameDetection, MediaFrame } from '../../worker/services/media-detection.service.js';
import type { Media, MediaLoader } from '../../worker/services/media-source.service.js';
import type { VideoDetection } from '../../worker/services/video-detection.service.js';
import type { VideoSource } from '../../worker/video/ffmpeg-args.js';
import { blankImage, detectedPicture, noFaces } from '../support/fake-pictures.js';
import { startRangeOrigin } from '../support/range-origin.js';

const options: DetectOptions = {
  numFrames: 3,
  singleFace: false,
  returnFaceUrl: false,
  expandRatio: 0.3,
  autoRotate: false,
  minFaceSize: 0,
};
const OPTIONS: DetectJobServiceOptions = {
  maxVideoBytes: 1_000_000,
  workerName: 'host:1',
  videoTimeoutMs: 200,
  ffmpegIdleTimeoutMs: 60_000,
};
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** An image as the loader hands it over: its bytes and what they were sniffed to be, once. */
const PNG_MEDIA = {
  kind: 'image' as const,
  bytes: PNG,
  sniffed: { kind: 'image' as const, format: 'png', mime: 'image/png' },
};

/** Answers `media`, making the job's work folder first when asked to, and records the lane it was given. */
class FakeMedia implements MediaLoader {
  readonly lanes: (QueueKind | undefined)[] = [];
  workDir: string | undefined;

  constructor(
    private readonly media: Media,
    private readonly usesWorkDir = false,
  ) {}

  async load(_source: DetectJobData['source'], makeWorkDir: () => Promise<string>, lane?: QueueKind) {
    this.lanes.push(lane);
    if (this.usesWorkDir) this.workDir = await makeWorkDir();
    return this.media;
  }
}

/** Runs `work` for each video, recording the input and signal it was given. */
class FakeVideo implements VideoDetection {
  readonly inputs: VideoSource[] = [];
  readonly signals: AbortSignal[] = [];

  constructor(private readonly work: (input: VideoSource, signal: AbortSignal) => Promise<FacesObj>) {}

  detect(_job: DetectJob, input: VideoSource, _options: DetectOptions, signal: AbortSignal) {
    this.inputs.push(input);
    this.signals.push(signal);
    return this.work(input, signal);
  }
}

/** Detects each frame and takes its crop source, as the real pipeline does when faces are to be cropped. */
class FakeFrames implements FrameDetection {
  readonly cropSources: RawImage[] = [];

  async detect(_jobId: string, frames: Iterable<MediaFrame> | AsyncIterable<MediaFrame>) {
    const facesObj: FacesObj = {};
    for await (const frame of frames) {
      const detected = await frame.detect({ autoRotate: false });
      this.cropSources.push(await frame.cropSource(detected));
      facesObj[frame.key] = noFaces(frame.time);
    }
    return facesObj;
  }
}

class FakeDetector implements PictureDetector {
  readonly seen: Buffer[] = [];

  constructor(private readonly picture: DetectedPicture) {}

  detectEncoded(bytes: Buffer, _request: PictureRequest) {
    this.seen.push(bytes);
    return Promise.resolve(this.picture);
  }
}

class FakeDecoder implements Pick<ImageDecoder, 'decode'> {
  readonly decoded: { width: number; height: number }[] = [];

  decode(_bytes: Buffer, width: number, height: number) {
    this.decoded.push({ width, height });
    return Promise.resolve(blankImage(width, height));
  }
}

/** Marks the bytes it converts, so a test can tell they were converted. */
class MarkingBitmaps implements Pick<BitmapConverter, 'toDecodable'> {
  readonly sniffed: SniffedMedia[] = [];

  toDecodable(bytes: Buffer, sniffed: SniffedMedia) {
    this.sniffed.push(sniffed);
    return Promise.resolve(Buffer.concat([bytes, Buffer.from('+decodable')]));
  }
}

class FakeBlobs implements Pick<MediaBlobRepository, 'delete'> {
  readonly deleted: string[] = [];

  delete(key: string) {
    this.deleted.push(key);
    return Promise.resolve();
  }
}

function job(source: DetectJobData['source'], kind: QueueKind = 'image', movedFrom?: string): DetectJob {
  return {
    id: 'job-1',
    kind,
    data: { source, options, requestId: 'r', ...(movedFrom ? { movedFrom } : {}) },
    updateProgress: () => Promise.resolve(),
  };
}

const URL_SOURCE = { kind: 'url' as const, url: 'https://media.example/v' };

function setUp(
  media: FakeMedia,
  video = new FakeVideo(() => Promise.resolve({})),
  picture = detectedPicture(),
) {
  const registry = new Registry();
  const parts = {
    detector: new FakeDetector(picture),
    decoder: new FakeDecoder(),
    frames: new FakeFrames(),
    blobs: new FakeBlobs(),
    bitmaps: new MarkingBitmaps(),
  };
  const service = new DetectJobService(
    parts.detector,
    parts.decoder,
    parts.bitmaps,
    parts.frames,
    video,
    parts.blobs,
    media,
    new GuardedHttpClient({ allowPrivateAddresses: true }),
    OPTIONS,
    new WorkerMetrics(registry),
  );
  const downloaded = async () =>
    (await registry.getSingleMetric('media_download_bytes_total')!.get()).values[0]?.value ?? 0;
  return { ...parts, service, downloaded };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  return promise.then(
    () => expect.fail('expected the job to fail'),
    (err: AppError) => err,
  );
}

describe('DetectJobService', () => {
  describe('images', () => {
    it('when an uploaded image is detected, then its converted bytes are searched, and its upload is deleted', async () => {
      const { service, detector, blobs, bitmaps } = setUp(new FakeMedia(PNG_MEDIA));
      const result = await service.handle(job({ kind: 'blob', key: 'b1', bytes: PNG.length }));
      expect(result).to.deep.equal({ faces_obj: { '0': noFaces(null) }, media: 'image', worker: 'host:1' });
      expect(detector.seen).to.deep.equal([Buffer.concat([PNG, Buffer.from('+decodable')])]);
      expect(blobs.deleted).to.deep.equal(['b1']);
      // The loader's one sniff is what the converter goes by: the bytes are not sniffed again.
      expect(bitmaps.sniffed).to.deep.equal([PNG_MEDIA.sniffed]);
    });

    it('when an image was searched at its full size, then crops come from that picture, not a second decode', async () => {
      const { service, frames, decoder } = setUp(new FakeMedia(PNG_MEDIA));
      await service.handle(job(URL_SOURCE));
      expect(decoder.decoded).to.deep.equal([]);
      expect(frames.cropSources[0]).to.include({ width: 4, height: 4 });
    });

    it('when an image was searched on a smaller copy, then crops come from it decoded again at full size', async () => {
      const passes = planScales(1000, 800, { maxSide: 500 });
      const small = blankImage(passes[0]!.width, passes[0]!.height);
      const pyramid = new ImagePyramid(1000, 800, passes, small, () => Promise.reject(new Error('unused')));
      const picture = { ...detectedPicture({ width: 1000, height: 800 }), pyramid };
      const { service, frames, decoder } = setUp(new FakeMedia(PNG_MEDIA), undefined, picture);
      await service.handle(job(URL_SOURCE));
      expect(decoder.decoded).to.deep.equal([{ width: 1000, height: 800 }]);
      expect(frames.cropSources[0]).to.include({ width: 1000, height: 800 });
    });
  });

  describe('lanes and work folders', () => {
    it('when a job has not moved, then its media is asked to stay in its lane; once moved, it stays where it is', async () => {
      const media = new FakeMedia(PNG_MEDIA);
      const { service } = setUp(media);
      await service.handle(job(URL_SOURCE, 'video'));
      await service.handle(job(URL_SOURCE, 'image', 'v-first'));
      expect(media.lanes).to.deep.equal(['video', undefined]);
    });

    it('when the bytes belong to the other lane, then the job answers otherLane', async () => {
      const { service } = setUp(new FakeMedia({ kind: 'other-lane' }));
      expect(await service.handle(job(URL_SOURCE))).to.deep.equal({ otherLane: true });
    });

    it('when a job made a work folder, then it is removed after the job, failed or not', async () => {
      const done = new FakeMedia({ kind: 'video', file: '/nonexistent/media' }, true);
      await setUp(done).service.handle(job(URL_SOURCE, 'video'));
      const failed = new FakeMedia({ kind: 'video', file: '/nonexistent/media' }, true);
      const broken = new FakeVideo(() => Promise.reject(new MediaTimeoutError()));
      await failure(setUp(failed, broken).service.handle(job(URL_SOURCE, 'video')));
      for (const dir of [done.workDir, failed.workDir]) {
        expect(dir).to.be.a('string');
        expect(existsSync(dir!)).to.equal(false);
      }
    });
  });

  describe('videos and the deadline', () => {
    it('when a video was downloaded, then it is read from its file and answered as a video', async () => {
      const video = new FakeVideo(() => Promise.resolve({ '0': noFaces(0) }));
      const { service } = setUp(new FakeMedia({ kind: 'video', file: '/tmp/x/media' }), video);
      const result = await service.handle(job(URL_SOURCE, 'video'));
      expect(video.inputs).to.deep.equal([{ kind: 'file', path: '/tmp/x/media' }]);
      expect(result).to.deep.equal({
        faces_obj: { '0': noFaces(0) },
        tracks: [],
        media: 'video',
        worker: 'host:1',
      });
    });

    it('when a video takes longer than VIDEO_TIMEOUT_MS, then its work is aborted and the job fails for good', async () => {
      const video = new FakeVideo(
        (_input, signal) =>
          new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason as Error)),
          ),
      );
      const { service } = setUp(new FakeMedia({ kind: 'video', file: '/tmp/x/media' }), video);
      const started = Date.now();
      const err = await failure(service.handle(job(URL_SOURCE, 'video')));
      expect(Date.now() - started).to.be.at.least(OPTIONS.videoTimeoutMs - 5);
      expect(err).to.be.instanceOf(VideoTimeoutError);
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        `Processing the video took longer than ${OPTIONS.videoTimeoutMs} ms; send a shorter video or fewer num_frames`,
      );
    });

    it('when a video finishes in time, then the deadline never fires afterwards', async () => {
      const video = new FakeVideo(() => Promise.resolve({}));
      await setUp(new FakeMedia({ kind: 'video', file: '/tmp/x/media' }), video).service.handle(
        job(URL_SOURCE, 'video'),
      );
      await new Promise((resolve) => setTimeout(resolve, OPTIONS.videoTimeoutMs + 50));
      expect(video.signals[0]!.aborted).to.equal(false);
    });
  });

  describe('videos read by range', () => {
    const FILE = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const VERSION: FileVersion = { totalBytes: FILE.length, etag: '"v1"' };

    /** Reads bytes 0–99 through the proxy ffmpeg is given, as ffmpeg would. */
    const readHead = async (input: VideoSource): Promise<Buffer | undefined> => {
      if (typeof input === 'string' || input.kind !== 'proxy') return undefined;
      const response = await fetch(input.url, { headers: { range: 'bytes=0-99' } });
      return Buffer.from(await response.arrayBuffer());
    };

    it('when the media is to be read by range, then ffmpeg reads the origin through a loopback proxy, its bytes counted', async () => {
      const origin = await startRangeOrigin({ file: () => ({ bytes: FILE, etag: '"v1"' }) });
      try {
        let head: Buffer | undefined;
        const video = new FakeVideo(async (input) => {
          head = await readHead(input);
          return {};
        });
        const media = new FakeMedia({ kind: 'ranged-video', url: `${origin.url}/v`, version: VERSION });
        const { service, downloaded } = setUp(media, video);
        expect(await service.handle(job(URL_SOURCE, 'video'))).to.include({ media: 'video' });
        const [input] = video.inputs;
        expect(input).to.have.property('kind', 'proxy');
        expect(input)
          .to.have.property('url')
          .that.matches(/^http:\/\/127\.0\.0\.1:\d+\//);
        expect(head).to.deep.equal(FILE.subarray(0, 100));
        expect(origin.seen.length).to.be.at.least(1);
        expect(await downloaded()).to.equal(FILE.length);
      } finally {
        await origin.close();
      }
    });

    it('when ffmpeg times out while the origin was still sending, then the job fails with a retryable DOWNLOAD_FAILED', async () => {
      const origin = await startRangeOrigin({ file: () => ({ bytes: FILE, etag: '"v1"' }) });
      try {
        const video = new FakeVideo(async (input) => {
          await readHead(input);
          throw new MediaTimeoutError();
        });
        const media = new FakeMedia({ kind: 'ranged-video', url: `${origin.url}/v`, version: VERSION });
        const err = await failure(setUp(media, video).service.handle(job(URL_SOURCE, 'video')));
        expect(err).to.be.instanceOf(DownloadFailedError);
        expect(err.retryable).to.equal(true);
        expect(err.message).to.equal(
          'Failed to download media from URL: the origin sent the video too slowly',
        );
      } finally {
        await origin.close();
      }
    });

    it('when ffmpeg times out without waiting on the origin, then the job fails for good with its own timeout', async () => {
      const video = new FakeVideo(() => Promise.reject(new MediaTimeoutError()));
      const media = new FakeMedia({ kind: 'ranged-video', url: 'http://127.0.0.1:9/v', version: VERSION });
      const err = await failure(setUp(media, video).service.handle(job(URL_SOURCE, 'video')));
      expect(err).to.be.instanceOf(MediaTimeoutError);
      expect(err.retryable).to.equal(false);
    });

    it('when the origin changes the file mid-read, then the job fails with that, not with the read ffmpeg saw fail', async () => {
      const origin = await startRangeOrigin({ file: () => ({ bytes: FILE, etag: '"v2"' }) });
      try {
        const video = new FakeVideo(async (input) => {
          await readHead(input).catch(() => undefined);
          throw new Error('ffmpeg exited with code 1');
        });
        const media = new FakeMedia({ kind: 'ranged-video', url: `${origin.url}/v`, version: VERSION });
        const err = await failure(setUp(media, video).service.handle(job(URL_SOURCE, 'video')));
        expect(err).to.be.instanceOf(MediaChangedError);
        expect(err.message).to.match(/its ETag changed/);
      } finally {
        await origin.close();
      }
    });
  });
});
