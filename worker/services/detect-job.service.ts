import { withDeadline } from '../../shared/queue/timeout.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FacesObj } from '../../shared/contract/api-contract.js';
import type { DetectJobResult, DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { MediaBlobRepository } from '../../shared/queue/media-blob.repository.js';
import type { DetectedPicture, PictureRequest } from '../detection/face-detection.service.js';
import type { GuardedHttpClient } from '../fetch/guarded-http-client.js';
import type { FileVersion } from '../fetch/range-answer.js';
import { RangeProxy } from '../fetch/range-proxy.js';
import type { DetectJob, OtherLane } from '../queue/detect-worker.repository.js';
import type { Logger } from '../../shared/logging/logger.js';
import { copyToFile, openByteSource } from '../video/byte-source.js';
import type { VideoSource } from '../video/ffmpeg-args.js';
import { WholeFileNeeded } from '../video/ffmpeg.repository.js';
import { TrackBook } from '../video/track-book.js';
import type { BitmapConverter } from '../media/bitmap-converter.repository.js';
import type { ImageDecoder } from '../media/image-decoder.repository.js';
import type { FrameDetection } from './media-detection.service.js';
import type { MediaLoader } from './media-source.service.js';
import type { VideoDetection } from './video-detection.service.js';
import { DownloadFailedError, MediaTimeoutError, VideoTimeoutError } from '../../shared/errors/errors.js';
import type { WorkerMetrics } from '../../shared/metrics/metrics.js';

export interface DetectJobServiceOptions {
  maxVideoBytes: number;
  /** Names this process in results (host:pid). */
  workerName: string;
  /** Longest a video job may take, all frames together. */
  videoTimeoutMs: number;
  /** FFMPEG_TIMEOUT_MS: how long an ffmpeg child may stay silent. */
  ffmpegIdleTimeoutMs: number;
  /** Where a range read that falls back to a download is noted. */
  log?: Pick<Logger, 'info'>;
}

/** Copies a video read by range to a local file. */
async function downloadThrough(
  input: VideoSource,
  file: string,
  signal: AbortSignal,
  idleTimeoutMs: number,
): Promise<void> {
  const source = await openByteSource(input, { signal, idleTimeoutMs });
  try {
    await copyToFile(source, file);
  } finally {
    await source.close();
  }
}

/** Face detection of an encoded image (FaceDetectionService). */
export interface PictureDetector {
  detectEncoded(bytes: Buffer, request: PictureRequest): Promise<DetectedPicture>;
}

/** Runs one detection job: gets the media, detects faces, and builds the answer's `faces_obj`. */
export class DetectJobService {
  constructor(
    private readonly detector: PictureDetector,
    private readonly decoder: Pick<ImageDecoder, 'decode'>,
    private readonly bitmaps: Pick<BitmapConverter, 'toDecodable'>,
    private readonly frames: FrameDetection,
    private readonly video: VideoDetection,
    private readonly blobs: Pick<MediaBlobRepository, 'delete'>,
    private readonly media: MediaLoader,
    /** The guarded client through which a video read by range is read. */
    private readonly client: GuardedHttpClient,
    private readonly options: DetectJobServiceOptions,
    private readonly metrics: WorkerMetrics,
  ) {}

  /**
   * `{ otherLane: true }` when the bytes belong to the other queue (a URL's extension guessed wrong): the
   * caller moves the job there. A job that moved once runs where it is.
   */
  async handle(job: DetectJob): Promise<DetectJobResult | OtherLane> {
    // Only downloads need a folder: making and removing one for every uploaded image costs the event loop
    // time on every job (figures: BENCHMARKS.md, "Measured behind the code").
    let workDir: string | undefined;
    const makeWorkDir = async () => (workDir ??= await mkdtemp(path.join(os.tmpdir(), 'facedetect-')));
    const { options } = job.data;
    try {
      const lane = job.data.movedFrom === undefined ? job.kind : undefined;
      const media = await this.media.load(job.data.source, makeWorkDir, lane);
      if (media.kind === 'other-lane') return { otherLane: true };
      if (media.kind === 'image') {
        const facesObj = await this.detectImage(
          job.id,
          await this.bitmaps.toDecodable(media.bytes, media.sniffed),
          options,
        );
        if (job.data.source.kind === 'blob') await this.blobs.delete(job.data.source.key);
        return this.result(facesObj, 'image');
      }
      const book = new TrackBook();
      const facesObj = await this.withDeadline((signal) =>
        media.kind === 'video'
          ? this.video.detect(job, { kind: 'file', path: media.file }, options, signal, book)
          : this.detectRanged(job, media, options, signal, makeWorkDir, book),
      );
      return { ...this.result(facesObj, 'video'), tracks: book.build(facesObj) };
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  }

  private result(facesObj: FacesObj, media: 'image' | 'video'): DetectJobResult {
    return { faces_obj: facesObj, media, worker: this.options.workerName };
  }

  /** ffmpeg reads the video through a loopback proxy that forwards each range through the URL guard. */
  private async detectRanged(
    job: DetectJob,
    media: { url: string; version: FileVersion },
    options: DetectOptions,
    signal: AbortSignal,
    makeWorkDir: () => Promise<string>,
    book: TrackBook,
  ): Promise<FacesObj> {
    const proxy = await RangeProxy.open(this.client, {
      url: media.url,
      version: media.version,
      signal,
      bytes: this.options.maxVideoBytes,
      setting: 'MAX_VIDEO_BYTES',
    });
    const input = { kind: 'proxy', url: proxy.url } as const;
    try {
      try {
        return await this.video.detect(job, input, options, signal, book);
      } catch (err) {
        if (!(err instanceof WholeFileNeeded)) throw err;
        // Its timing is only known from the whole file: download it through the proxy, within the budget.
        this.options.log?.info(
          { jobId: job.id, container: err.container, bytes: media.version.totalBytes },
          "the video's index does not give its frame times; downloading it instead of reading by range",
        );
        const file = path.join(await makeWorkDir(), 'media');
        await downloadThrough(input, file, signal, this.options.ffmpegIdleTimeoutMs);
        return await this.video.detect(job, { kind: 'file', path: file }, options, signal, book);
      }
    } catch (err) {
      // ffmpeg only sees a broken read; the proxy knows whether the origin or a limit broke it.
      if (proxy.failure) throw proxy.failure;
      // ffmpeg waits silently while the proxy waits on the origin: a "hung" child that was still being fed
      // was waiting on a slow origin, which is worth another try, not a refusal of the video.
      if (
        err instanceof MediaTimeoutError &&
        Date.now() - proxy.lastOriginActivity < this.options.ffmpegIdleTimeoutMs
      ) {
        throw new DownloadFailedError('the origin sent the video too slowly', true, { cause: err });
      }
      throw err;
    } finally {
      this.metrics.downloadBytes.inc(proxy.bytesRead);
      await proxy.close();
    }
  }

  /** Bounds a video's whole processing time; the abort kills its ffmpeg children. */
  private withDeadline<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ms = this.options.videoTimeoutMs;
    return withDeadline(
      ms,
      () => new VideoTimeoutError(ms),
      (controller) => work(controller.signal),
    );
  }

  /** An image is a video of one frame, decoded straight to the finest pass's size. */
  private detectImage(jobId: string, bytes: Buffer, options: DetectOptions): Promise<FacesObj> {
    return this.frames.detect(
      jobId,
      [
        {
          key: '0',
          time: null,
          detect: (request) => this.detector.detectEncoded(bytes, request),
          // Crops come from the full picture, decoded again only when detection ran on a smaller copy.
          cropSource: ({ pyramid: { finest }, width, height }) =>
            finest.width === width && finest.height === height
              ? Promise.resolve(finest)
              : this.decoder.decode(bytes, width, height),
        },
      ],
      options,
    );
  }
}
