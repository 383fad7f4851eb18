import { expect } from 'chai';
import type { FrameFaces } from '../../shared/contract/api-contract.js';
import { toFrameFaces } from '../../worker/detection/frame-faces.js';
import { TrackBook, type TrackFace } from '../../worker/video/track-book.js';

/** A 100-px face at (x, y) with its six landmarks where a frontal face has them. */
function face(x: number, y: number, usability: number, answerIndex = 0): TrackFace {
  const at = (fx: number, fy: number): [number, number] => [x + fx * 100, y + fy * 100];
  return {
    region: [x, y, 100, 100],
    landmarks: [at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.6), at(0.5, 0.8), at(0.35, 0.8), at(0.65, 0.8)],
    score: 0.9,
    pose: { yaw: 0, pitch: 0, roll: 0 },
    quality: { sharpness: 0.8, brightness: 0.5 },
    usability,
    answerIndex,
  };
}

/** A frame of `faces_obj` whose crops have these links. */
function withUrls(urls: string[]): FrameFaces {
  const frame = toFrameFaces([], {
    faceIds: [],
    removed: [],
    frameTime: 0,
    pose: [],
    quality: [],
    rotation: 0,
  });
  return { ...frame, face_urls: urls };
}

describe('TrackBook', () => {
  it('when a face is followed over frames, then first/last time and frames match them and best is the most usable', () => {
    const book = new TrackBook();
    book.add('0', 0, [face(100, 100, 0.4)]);
    book.add('10', 0.4, [face(105, 100, 0.7)]);
    book.add('20', 0.8, [face(110, 102, 0.6)]);
    const [track, ...more] = book.build({});
    expect(more).to.deep.equal([]);
    expect(track).to.deep.include({ face_id: 0, first_time: 0, last_time: 0.8, frames: ['0', '10', '20'] });
    expect(track!.best.frame).to.equal('10');
    expect(track!.best.usability).to.equal(0.7);
    expect(track!.best.region).to.deep.equal([105, 100, 100, 100]);
    expect(track!.best.landmarks_str).to.equal('135,140:175,140:155,160:155,180');
    expect(track!.best.face_url).to.equal(null);
  });

  it('when two frames tie on usability, then the earlier one stays best', () => {
    const book = new TrackBook();
    book.add('0', 0, [face(100, 100, 0.5)]);
    book.add('5', 0.2, [face(102, 100, 0.5)]);
    expect(book.build({})[0]!.best.frame).to.equal('0');
  });

  it('when a face leaves and comes back, then it gets a new track, and tracks come by id', () => {
    const book = new TrackBook();
    book.add('0', 0, [face(100, 100, 0.5), face(400, 100, 0.5)]);
    book.add('1', 1, [face(400, 100, 0.6)]);
    book.add('2', 2, [face(100, 100, 0.5), face(402, 100, 0.4)]);
    const tracks = book.build({});
    expect(tracks.map((t) => [t.face_id, t.frames])).to.deep.equal([
      [0, ['0']],
      [1, ['0', '1', '2']],
      [2, ['2']],
    ]);
    expect(tracks[1]).to.deep.include({ first_time: 0, last_time: 2 });
  });

  it("when the best face has a crop in faces_obj, then face_url is that crop's link, and null for a dropped face", () => {
    const book = new TrackBook();
    book.add('0', 0, [face(100, 100, 0.9, 1), face(400, 100, 0.9, -1)]);
    const facesObj = { '0': withUrls(['/crops/j/0/0.jpg', '/crops/j/0/1.jpg']) };
    const [first, second] = book.build(facesObj);
    expect(first!.best.face_url).to.equal('/crops/j/0/1.jpg');
    expect(second!.best.face_url).to.equal(null);
  });
});
