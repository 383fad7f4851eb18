import type { DetectPending, DetectSuccess } from '../../shared/contract/api-contract.js';
import type {
  BatchMembership,
  DetectJobData,
  MediaSource,
  QueueKind,
} from '../../shared/contract/detect-job.contract.js';
import { InvalidRequestError, QueueFullError, UnsupportedMediaError } from '../../shared/errors/errors.js';
import { guessKindFromUrl, sniffMedia } from '../../shared/media/media-sniffer.js';
import type { MediaBlobRepository } from '../../shared/queue/media-blob.repository.js';
import { newJobId } from '../../shared/queue/job-id.js';
import type { UrlGuard } from '../../shared/net/url-guard.js';
import type { DetectQueueRepository } from '../repositories/detect-queue.repository.js';
import { parseImagePayload } from '../validation/image-payload.js';
import { checkUpload } from './upload-check.js';
import type { DetectRequest } from '../validation/detect-request.schema.js';

export interface DetectServiceOptions {
  syncTimeoutMs: number;
  maxImageBytes: number;
  /** How long uploaded bytes wait in Redis for a worker. */
  blobTtlS: number;
  /** Waiting jobs in a queue beyond which requests are refused (MAX_QUEUE_DEPTH). */
  maxQueueDepth: number;
  /** `auto_rotate` when a request does not say (AUTO_ROTATE). */
  autoRotate: boolean;
}

/** Who sent a request, as the gateway established it. */
export interface Submitter {
  requestId: string;
  /** The submitting key's owner id, recorded on the job (undefined without authentication). */
  owner?: string;
  /** The base of the absolute URLs handed out for this request (see `publicBase`), recorded on the job. */
  publicBase: string;
}

export type DetectAnswer = { status: 200; body: DetectSuccess } | { status: 202; body: DetectPending };

/**
 * Turns a validated request into a job and waits for it within the sync budget. The gateway never decodes
 * images: it only decodes base64 and reads magic bytes to refuse what cannot be an image. Uploaded bytes
 * take the same path as decoded `img` bytes: parked in Redis, then queued.
 */
export class DetectService {
  constructor(
    private readonly queue: Pick<DetectQueueRepository, 'submit' | 'waitingCount'>,
    private readonly blobs: Pick<MediaBlobRepository, 'put'>,
    /** Refuses a callback_url on a non-public address at submit time. */
    private readonly urls: Pick<UrlGuard, 'check'>,
    private readonly options: DetectServiceOptions,
  ) {}

  /** `batch`: the item's place in a batch with a callback, where the worker records its final answer. */
  async detect(req: DetectRequest, submitter: Submitter, batch?: BatchMembership): Promise<DetectAnswer> {
    const { requestId, owner, publicBase } = submitter;
    if (req.callback_url !== undefined) await this.urls.check('callback_url', req.callback_url);
    const kind: QueueKind = req.media === 'url' ? guessKindFromUrl(req.url) : 'image';
    const source = await this.prepareSource(req, kind);
    const jobId = newJobId(kind);
    const data: DetectJobData = {
      source,
      requestId,
      options: {
        numFrames: req.num_frames,
        // face_select implies single_face; without it single_face keeps the largest, as it always did.
        singleFace: req.single_face || req.face_select !== undefined,
        ...(req.face_select !== undefined ? { faceSelect: req.face_select } : {}),
        minConfidence: req.min_confidence,
        returnFaceUrl: req.return_face_url,
        expandRatio: req.expand_ratio,
        autoRotate: req.auto_rotate ?? this.options.autoRotate,
        minFaceSize: req.min_face_size,
        maxFaces: req.max_faces,
      },
      callbackUrl: req.callback_url,
      ...(owner ? { owner } : {}),
      publicBase,
      ...(batch ? { batch } : {}),
    };
    const outcome = await this.queue.submit(kind, jobId, data, req.async ? 0 : this.options.syncTimeoutMs);
    switch (outcome.state) {
      case 'completed':
        return {
          status: 200,
          body: {
            error_code: 0,
            error_msg: 'SUCCESS',
            job_id: jobId,
            faces_obj: outcome.result.faces_obj,
            tracks: outcome.result.tracks ?? null,
          },
        };
      case 'failed':
        throw outcome.error;
      case 'pending':
        return {
          status: 202,
          body: {
            error_code: 0,
            error_msg: 'PENDING',
            job_id: jobId,
            status_url: `${publicBase}/jobs/${jobId}`,
          },
        };
    }
  }

  /**
   * The upload is checked before the queue, so a bad image gets its 4xx whatever the queue's state, and
   * parked only when there is room, so a full queue costs Redis no memory.
   */
  private async prepareSource(req: DetectRequest, kind: QueueKind): Promise<MediaSource> {
    if (req.media === 'url') {
      await this.ensureRoom(kind);
      return { kind: 'url', url: req.url };
    }
    const bytes = req.media === 'img' ? await this.checkImage(req.img) : await checkUpload(req.upload);
    await this.ensureRoom(kind);
    return { kind: 'blob', key: await this.blobs.put(bytes, this.options.blobTtlS), bytes: bytes.length };
  }

  /**
   * A soft bound: requests arriving together may each still see room, so a queue can pass it by the
   * number of requests in flight, which is enough to shed a flood.
   */
  private async ensureRoom(kind: QueueKind): Promise<void> {
    const waiting = await this.queue.waitingCount(kind);
    if (waiting >= this.options.maxQueueDepth)
      throw new QueueFullError(kind, waiting, this.options.maxQueueDepth);
  }

  private async checkImage(img: string): Promise<Buffer> {
    const { bytes, declaredType } = parseImagePayload(img, this.options.maxImageBytes);
    const sniffed = await sniffMedia(bytes);
    if (sniffed.kind === 'video') {
      throw new InvalidRequestError(
        "'img' holds a video; videos are accepted by 'url' only: host the file and send its URL",
      );
    }
    if (sniffed.kind === 'image' && declaredType && !declaredMatches(declaredType, sniffed.format)) {
      throw new UnsupportedMediaError(
        `'img' declares ${declaredType} but holds ${sniffed.format} data; fix the data URI's type or send plain base64`,
      );
    }
    if (declaredType && !declaredType.startsWith('image/')) {
      throw new UnsupportedMediaError(`'img' declares ${declaredType}, which is not an image; send an image`);
    }
    return bytes;
  }
}

const FORMAT_TYPES: Record<string, string[]> = {
  jpeg: ['image/jpeg', 'image/jpg', 'image/pjpeg'],
  png: ['image/png', 'image/apng'],
  gif: ['image/gif'],
  webp: ['image/webp'],
  tiff: ['image/tiff'],
  bmp: ['image/bmp', 'image/x-ms-bmp'],
};

function declaredMatches(declared: string, format: string): boolean {
  const types = FORMAT_TYPES[format];
  return types
    ? types.includes(declared)
    : declared === 'image/avif' || declared === 'image/heic' || declared === 'image/heif';
}
