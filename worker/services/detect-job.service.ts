import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FacesObj } from '../../shared/contract/api-contract.js';
import type { DetectJobResult, DetectOptions } from '../../shared/contract/detect-job.contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import { PayloadTooLargeError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import { sniffMedia } from '../../shared/media/media-sniffer.js';
import type { MediaBlobRepository } from '../../shared/queue/media-blob.repository.js';
import type { FaceDetectionService } from '../detection/face-detection.service.js';
import { placeFace, selectFaces, toFrameFaces } from '../detection/frame-faces.js';
import type { MediaFetcher } from '../fetch/media-fetcher.js';
import type { DetectJob } from '../queue/detect-worker.repository.js';
import type { ImageDecoder } from '../media/image-decoder.repository.js';
import type { CropService } from './crop.service.js';
import type { VideoDetectionService } from './video-detection.service.js';
import { VideoTimeoutError } from '../video/video-timeout.error.js';
import type { WorkerMetrics } from '../../shared/metrics/metrics.js';

/** Downloads a URL to a file; the SSRF-guarded fetcher in production. */
export type UrlFetcher = Pick<MediaFetcher, 'fetchToFile'>;

export interface DetectJobServiceOptions {
  maxImageBytes: number;
  maxVideoBytes: number;
  scoreThreshold: number;
  /** Names this process in results (host:pid). */
  workerName: string;
  /** Longest a video job may take, all frames together. */
  videoTimeoutMs: number;
}

type Media = { kind: 'image'; bytes: Buffer } | { kind: 'video'; file: string };

/** Runs one detection job: gets the media, detects faces, and builds the answer's `faces_obj`. */
export class DetectJobService {
  constructor(
    private readonly detector: FaceDetectionService,
    private readonly decoder: ImageDecoder,
    private readonly crops: CropService,
    private readonly video: VideoDetectionService,
    private readonly blobs: MediaBlobRepository,
    private readonly fetcher: UrlFetcher,
    private readonly options: DetectJobServiceOptions,
    private readonly metrics: WorkerMetrics,
  ) {}

  async handle(job: DetectJob): Promise<DetectJobResult> {
    // Only downloads need a folder: making and removing one for every uploaded image cost about 1 ms of
    // the event loop per job.
    let workDir: string | undefined;
    const makeWorkDir = async () => (workDir ??= await mkdtemp(path.join(os.tmpdir(), 'facedetect-')));
    try {
      const media = await this.loadMedia(job, makeWorkDir);
      if (media.kind === 'video') {
        const facesObj = await this.withDeadline((signal) =>
          this.video.detect(job, media.file, job.data.options, signal),
        );
        return { faces_obj: facesObj, media: 'video', worker: this.options.workerName };
      }
      const facesObj = await this.detectImage(job.id, media.bytes, job.data.options);
      if (job.data.source.kind === 'blob') await this.blobs.delete(job.data.source.key);
      return { faces_obj: facesObj, media: 'image', worker: this.options.workerName };
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  }

  /** Bounds a video's whole processing time; the abort kills its ffmpeg children. */
  private async withDeadline<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new VideoTimeoutError(this.options.videoTimeoutMs)),
      this.options.videoTimeoutMs,
    );
    try {
      return await work(controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private async detectImage(jobId: string, bytes: Buffer, options: DetectOptions): Promise<FacesObj> {
    const { width, height, faces, pixels } = await this.detector.detectEncoded(bytes, options.minConfidence);
    const placed = selectFaces(
      faces.map((f) => placeFace(f, width, height)),
      { singleFace: options.singleFace, minConfidence: options.minConfidence ?? this.options.scoreThreshold },
    );
    const frame = toFrameFaces(placed, { faceIds: placed.map((_, i) => i), removed: [], frameTime: null });
    this.metrics.frames.inc();
    this.metrics.faces.inc(placed.length);
    if (options.returnFaceUrl) {
      const full =
        pixels.width === width && pixels.height === height
          ? pixels
          : await this.decoder.decode(bytes, width, height);
      await this.crops.cropFrame(jobId, '0', frame, full, options.expandRatio);
    }
    return { '0': frame };
  }

  private async loadMedia(job: DetectJob, makeWorkDir: () => Promise<string>): Promise<Media> {
    const source = job.data.source;
    if (source.kind === 'blob') {
      const bytes = await this.blobs.get(source.key);
      if (!bytes) {
        throw new AppError(
          'MEDIA_EXPIRED',
          410,
          'The uploaded image expired before a worker reached it; send it again',
        );
      }
      return { kind: 'image', bytes };
    }
    const file = path.join(await makeWorkDir(), 'media');
    // Whether it is an image is known only once the bytes are in, so the larger video limit bounds the download.
    const fetched = await this.fetcher.fetchToFile(source.url, file, {
      maxBytes: this.options.maxVideoBytes,
      limitName: 'MAX_VIDEO_BYTES',
    });
    this.metrics.downloadBytes.inc(fetched.bytes);
    const head = await readHead(file, 512);
    const sniffed = sniffMedia(head);
    if (sniffed.kind === 'video') return { kind: 'video', file };
    if (head.length === 0) {
      throw new UnsupportedMediaError('The URL returned no data (0 bytes); point it at an image or a video');
    }
    const { size } = await stat(file);
    if (size > this.options.maxImageBytes) {
      throw new PayloadTooLargeError(
        `The image is ${size} bytes, above the ${this.options.maxImageBytes}-byte limit (MAX_IMAGE_BYTES); send a smaller image`,
      );
    }
    if (sniffed.kind === 'unknown' && SVG.test(head.toString('latin1').trimStart())) {
      throw new UnsupportedMediaError(
        'Images in SVG format are not accepted; send a JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIF image',
      );
    }
    if (sniffed.kind === 'unknown' && looksLikeText(head)) {
      throw new UnsupportedMediaError(
        'The URL returned a text or HTML page, not an image or a video; link to the media file itself',
      );
    }
    return { kind: 'image', bytes: await readFile(file) };
  }
}

/** An SVG document's start: the root element, after any XML declaration, comments and doctype. */
const SVG = /^(?:<\?xml[^>]*>\s*|<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i;

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Markup, JSON, or nothing but printable ASCII: an error or web page rather than media. */
function looksLikeText(head: Buffer): boolean {
  const text = head.toString('latin1').trimStart();
  const printable = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  return text.startsWith('<') || text.startsWith('{') || printable;
}
