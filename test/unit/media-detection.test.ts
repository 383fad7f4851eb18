import { expect } from 'chai';
import type { FrameFaces } from '../../shared/contract/api-contract.js';
import type { DetectOptions } from '../../shared/contract/detect-job.contract.js';
import type { DetectedPicture, PictureRequest } from '../../worker/detection/face-detection.service.js';
import type { QuarterTurn } from '../../worker/detection/view-transform.js';
import type { FrameSteps, StepFrame } from '../../worker/services/frame-step.service.js';
import { MediaDetectionService, type MediaFrame } from '../../worker/services/media-detection.service.js';
import { detectedPicture, noFaces } from '../support/fake-pictures.js';

const options: DetectOptions = {
  numFrames: 5,
  singleFace: false,
  returnFaceUrl: false,
  expandRatio: 0.3,
  autoRotate: true,
  minFaceSize: 0,
};

/** A frame-step stand-in that records the order frames are finished in. */
class RecordingSteps implements FrameSteps {
  constructor(readonly finished: string[]) {}

  finish(_job: string, frame: StepFrame, detected: DetectedPicture): Promise<FrameFaces> {
    this.finished.push(frame.key);
    return Promise.resolve(noFaces(frame.time, detected.turn));
  }
}

/** Frames whose detection reports `decided` as given, recording the turn each was asked to search. */
function frames(decided: boolean[], asked: (QuarterTurn | undefined)[]): MediaFrame[] {
  return decided.map((d, i) => ({
    key: String(i),
    time: i,
    cropSource: () => Promise.reject(new Error('no crops here')),
    detect: (request: PictureRequest) => {
      asked[i] = request.turn;
      return Promise.resolve(detectedPicture({ turn: request.turn ?? 90, decided: d }));
    },
  }));
}

describe('MediaDetectionService: one turn per video', () => {
  it('when a frame decides the turn, then frames started after it was finished search that turn alone', async () => {
    const asked: (QuarterTurn | undefined)[] = [];
    const finished: string[] = [];
    const service = new MediaDetectionService(new RecordingSteps(finished), { parallelFrames: 2 });
    await service.detect('job', frames([false, true, false, false, false], asked), options);
    // Frames 0–2 start before frame 1 is finished; frame 3 starts after it.
    expect(asked).to.deep.equal([undefined, undefined, undefined, 90, 90]);
    expect(finished).to.deep.equal(['0', '1', '2', '3', '4']);
  });

  it('when no frame decides, then every frame searches every turn', async () => {
    const asked: (QuarterTurn | undefined)[] = [];
    const service = new MediaDetectionService(new RecordingSteps([]), { parallelFrames: 1 });
    await service.detect('job', frames([false, false, false], asked), options);
    expect(asked).to.deep.equal([undefined, undefined, undefined]);
  });
});
