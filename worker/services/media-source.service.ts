import path from 'node:path';
import type { DetectJobData, QueueKind } from '../../shared/contract/detect-job.contract.js';
import {
  MediaExpiredError,
  PayloadTooLargeError,
  UnsupportedMediaError,
} from '../../shared/errors/errors.js';
import { looksLikeText } from '../../shared/media/looks-like-text.js';
import { sniffMedia, type SniffedMedia } from '../../shared/media/media-sniffer.js';
import type { WorkerMetrics } from '../../shared/metrics/metrics.js';
import type { MediaBlobRepository } from '../../shared/queue/media-blob.repository.js';
import type { FetchAnswer, FetchedMedia, FetchLimits, HeadRules } from '../fetch/media-fetcher.js';
import type { FileVersion } from '../fetch/range-answer.js';
import { IMAGE_FORMATS_HINT } from '../../shared/media/image-formats.js';
import type { Logger } from '../../shared/logging/logger.js';

/** Fetches a URL into memory or a file, or decides to read it by range; the guarded MediaFetcher in production. */
export interface UrlFetcher {
  fetch(url: string, limits: FetchLimits & HeadRules): Promise<FetchAnswer>;
}

export interface MediaSourceOptions {
  maxImageBytes: number;
  maxVideoBytes: number;
  /** Videos at least this large, from an origin that serves ranges, are read by range instead of downloaded. */
  rangeReadMinBytes: number;
  /** Where a large video downloaded whole, as its container's timing needs, is noted. */
  log?: Pick<Logger, 'info'>;
}

/**
 * Containers whose index, which a range read fetches anyway (an MP4's moov, an AVI's idx1), gives every
 * frame's time. Others (Matroska's Cues list keyframes only; MPEG-TS, FLV and Ogg have no index) are
 * downloaded, so that their frames get the keys and times the whole file gives.
 */
const RANGE_INDEXED = new Set(['mp4', 'mov', 'avi']);

/**
 * Where a job's media is: an image's bytes in memory, with what they were sniffed to be, a downloaded file, or a remote video to read by range; or, for a
 * job asked to stay in its lane, that the first bytes are of the other kind (nothing more was fetched).
 */
export type Media =
  | { kind: 'image'; bytes: Buffer; sniffed: SniffedMedia }
  | { kind: 'video'; file: string }
  | { kind: 'ranged-video'; url: string; version: FileVersion }
  | { kind: 'other-lane' };

/** A job's media, as the job uses it. */
export interface MediaLoader {
  load(source: DetectJobData['source'], makeWorkDir: () => Promise<string>, lane?: QueueKind): Promise<Media>;
}

/** Gets a job's media from Redis or its URL and tells what it is by its bytes, refusing what cannot be media. */
export class MediaSourceService implements MediaLoader {
  constructor(
    private readonly blobs: Pick<MediaBlobRepository, 'get'>,
    private readonly fetcher: UrlFetcher,
    private readonly options: MediaSourceOptions,
    private readonly metrics: WorkerMetrics,
  ) {}

  /** With `lane`, a URL whose first bytes are of the other kind is left there, answering `other-lane`. */
  async load(
    source: DetectJobData['source'],
    makeWorkDir: () => Promise<string>,
    lane?: QueueKind,
  ): Promise<Media> {
    if (source.kind === 'blob') {
      const bytes = await this.blobs.get(source.key);
      if (!bytes) {
        throw new MediaExpiredError();
      }
      return { kind: 'image', bytes, sniffed: await sniffMedia(bytes) };
    }
    // Whether it is an image is known only once the bytes are in, so the larger video limit bounds the
    // download; an image stays in memory, a video or anything larger than an image may be goes to a file.
    const fetched = await this.fetcher.fetch(source.url, {
      bytes: this.options.maxVideoBytes,
      setting: 'MAX_VIDEO_BYTES',
      rangeRead: {
        minBytes: this.options.rangeReadMinBytes,
        accept: (sniffed) => this.readsByRange(sniffed),
      },
      stopAt: lane && ((sniffed) => belongsElsewhere(sniffed, lane)),
      target: {
        memoryBytes: this.options.maxImageBytes,
        toFile: (sniffed) => sniffed.kind === 'video',
        file: async () => path.join(await makeWorkDir(), 'media'),
      },
    });
    if ('stopped' in fetched) return { kind: 'other-lane' };
    if ('ranged' in fetched) return { kind: 'ranged-video', url: fetched.finalUrl, version: fetched.version };
    this.metrics.downloadBytes.inc(fetched.size);
    return this.identify(fetched);
  }

  private readsByRange(sniffed: SniffedMedia): boolean {
    if (sniffed.kind !== 'video') return false;
    if (RANGE_INDEXED.has(sniffed.format)) return true;
    this.options.log?.info(
      { format: sniffed.format },
      'a large video whose index does not give its frame times is downloaded instead of read by range',
    );
    return false;
  }

  private identify(fetched: FetchedMedia): Media {
    const { sniffed } = fetched;
    if (fetched.file !== undefined) {
      if (sniffed.kind === 'video') return { kind: 'video', file: fetched.file };
      throw new PayloadTooLargeError(
        `The image is ${fetched.size} bytes, above the ${this.options.maxImageBytes}-byte limit (MAX_IMAGE_BYTES); send a smaller image`,
      );
    }
    const { bytes } = fetched;
    if (bytes.length === 0) {
      throw new UnsupportedMediaError('The URL returned no data (0 bytes); point it at an image or a video');
    }
    if (
      sniffed.kind === 'unknown' &&
      SVG.test(bytes.subarray(0, SVG_HEAD_BYTES).toString('latin1').trimStart())
    ) {
      throw new UnsupportedMediaError(`Images in SVG format are not accepted; ${IMAGE_FORMATS_HINT}`);
    }
    if (sniffed.kind === 'unknown' && looksLikeText(bytes)) {
      throw new UnsupportedMediaError(
        'The URL returned a text or HTML page, not an image or a video; link to the media file itself',
      );
    }
    return { kind: 'image', bytes, sniffed };
  }
}

/** Bytes that are recognisably of the other lane's kind; unknown bytes stay, to be refused where they are. */
function belongsElsewhere({ kind }: SniffedMedia, lane: QueueKind): boolean {
  return kind !== 'unknown' && kind !== lane;
}

/** Bytes in which an SVG's root element is looked for, as the text check looks at its head. */
const SVG_HEAD_BYTES = 512;

/** An SVG document's start: the root element, after any XML declaration, comments and doctype. */
const SVG = /^(?:<\?xml[^>]*>\s*|<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i;
