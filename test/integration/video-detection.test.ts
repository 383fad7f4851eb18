import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { DetectJobProgress, DetectOptions } from '../../shared/contract/detect-job.contract.js';
import { WorkerMetrics } from '../../shared/metrics/metrics.js';
import { FaceDetectionService } from '../../worker/detection/face-detection.service.js';
import { InferencePool } from '../../worker/inference/inference-pool.js';
import { ImageDecoder } from '../../worker/media/image-decoder.repository.js';
import type { DetectJob } from '../../worker/queue/detect-worker.repository.js';
import type { CropService } from '../../worker/services/crop.service.js';
import { VideoDetectionService, type FrameDetector } from '../../worker/services/video-detection.service.js';
import { MediaDetectionService } from '../../worker/services/media-detection.service.js';
import { FrameStepService } from '../../worker/services/frame-step.service.js';
import { YUNET_THREAD_URL } from '../../worker/yunet/yunet-thread-url.js';
import { FfmpegRepository } from '../../worker/video/ffmpeg.repository.js';
import { FramePipeline } from '../../worker/video/frame-pipeline.js';
import { detectedPicture } from '../support/fake-pictures.js';
import { testConfig } from '../support/service.js';
import { binaries, CLIP } from '../support/video-fixtures.js';
import { TEST_VIDEO_LIMITS } from '../support/video-fixtures.js';

const options: DetectOptions = {
  numFrames: 12,
  singleFace: false,
  returnFaceUrl: false,
  expandRatio: 0.3,
  autoRotate: true,
  minFaceSize: 0,
};

function job(progress: DetectJobProgress[]): DetectJob {
  return {
    id: 'v-test',
    kind: 'video',
    data: { source: { kind: 'url', url: 'http://example.com/clip.mp4' }, options, requestId: 'r' },
    updateProgress: (p) => {
      progress.push(p);
      return Promise.resolve();
    },
  };
}

describe('VideoDetectionService (real ffmpeg and model)', function () {
  this.timeout(60_000);
  const config = testConfig();
  const pipeline = new FramePipeline(new FfmpegRepository({ binaries, limits: TEST_VIDEO_LIMITS }), {
    maxSide: 640,
    maxFrames: TEST_VIDEO_LIMITS.maxFrames,
  });
  // These jobs ask for no crops.
  const crops: Pick<CropService, 'cropFrame' | 'cropFaces'> = {
    cropFrame: () => Promise.reject(new Error('no crops were asked for')),
    cropFaces: () => Promise.reject(new Error('no crops were asked for')),
  };
  let pool: InferencePool;
  let detector: FaceDetectionService;

  before(async () => {
    pool = await InferencePool.start({
      threadUrl: YUNET_THREAD_URL,
      modelPath: config.detector.modelPath,
      threads: 2,
    });
    detector = new FaceDetectionService(pool, new ImageDecoder({ maxPixels: 40_000_000 }), {
      maxSide: 640,
      scoreThreshold: 0.6,
      nmsIou: 0.3,
    });
  });
  after(async () => {
    await pool.close();
  });

  const service = (parallelFrames: number, faces: FrameDetector = detector) =>
    new VideoDetectionService(
      pipeline,
      faces,
      new MediaDetectionService(
        new FrameStepService(crops, new WorkerMetrics(new Registry()), { scoreThreshold: 0.6 }),
        { parallelFrames },
      ),
    );

  it('when frames are detected several at once, then faces, ids and progress are those of one at a time', async () => {
    const progressOne: DetectJobProgress[] = [];
    const one = await service(1).detect(job(progressOne), CLIP, options, new AbortController().signal);
    const progressThree: DetectJobProgress[] = [];
    const three = await service(3).detect(job(progressThree), CLIP, options, new AbortController().signal);
    expect(three).to.deep.equal(one);
    expect(Object.keys(three)).to.have.length(12);
    expect(Object.values(three).some((frame) => frame.region.length > 0)).to.equal(true);
    expect(progressThree).to.deep.equal(progressOne);
    expect(progressThree.map((p) => p.frames_done)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('when one frame fails while others are in flight, then the job fails with its error and nothing is left unhandled', async () => {
    let calls = 0;
    const failing: FrameDetector = {
      // Frame 2 fails at once, while frame 1 is still being detected and frame 3 being extracted.
      detectRaw: async () => {
        calls += 1;
        const call = calls;
        if (call === 2) throw new Error('frame 2 failed');
        await new Promise((resolve) => setTimeout(resolve, call === 1 ? 300 : 10));
        return detectedPicture({ width: 1, height: 1 });
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const err = await service(3, failing)
        .detect(job([]), CLIP, options, new AbortController().signal)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as Error).message).to.equal('frame 2 failed');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
