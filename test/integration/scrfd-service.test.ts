import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import type { DetectSuccess } from '../../shared/contract/api-contract.js';
import { image } from '../support/fixtures.js';
import { serveFilesWithRanges } from '../support/range-file-server.js';
import { postJson, startService, type TestService } from '../support/service.js';
import { CLIP } from '../support/video-fixtures.js';
import type { FixtureServer } from '../support/http-fixture-server.js';

const MODEL = path.resolve(process.env.SHARED_DIR ?? '../shared', 'models', 'scrfd_2.5g_kps.onnx');

describe('the service with SCRFD-2.5G as a user-supplied file (MODEL_NAME=scrfd, MODEL_FILE)', function () {
  let svc: TestService;
  let files: FixtureServer;

  before(async function () {
    if (!existsSync(MODEL)) {
      console.log(`    ${MODEL} is absent (research licence, tests only), so SCRFD is not checked`);
      this.skip();
    }
    files = await serveFilesWithRanges({ '/clip.mp4': { file: CLIP, type: 'video/mp4' } });
    svc = await startService({ MODEL_NAME: 'scrfd', MODEL_FILE: MODEL });
  });

  after(async () => {
    await svc?.stop();
    await files?.close();
  });

  for (const turn of [0, 90, 180, 270] as const) {
    it(`when two_people.jpg is turned ${turn}° with auto_rotate, then both faces come back upright with pose, quality and crops`, async () => {
      const bytes = await sharp(await readFile(image('two_people.jpg')))
        .rotate(turn)
        .jpeg({ quality: 92 })
        .toBuffer();
      const { status, body } = await postJson(`${svc.url}/detect`, {
        img: bytes.toString('base64'),
        auto_rotate: true,
        return_face_url: true,
      });
      expect(status).to.equal(200);
      const frame = (body as DetectSuccess).faces_obj['0']!;
      expect(frame.region).to.have.length(2);
      expect(frame.rotation).to.equal((360 - turn) % 360);
      expect(frame.pose).to.have.length(2);
      expect(frame.quality).to.have.length(2);
      expect(frame.face_urls).to.have.length(2);
      expect(frame.landmarks[0]).to.have.length(6);
    });
  }

  it('when a video is detected, then its sampled frames have faces and every face id has a track', async () => {
    const { status, body } = await postJson(`${svc.url}/detect`, {
      url: `${files.url}/clip.mp4`,
      num_frames: 5,
    });
    expect(status).to.equal(200);
    const answer = body as DetectSuccess;
    const frames = Object.values(answer.faces_obj);
    expect(frames.filter((f) => f.region.length > 0).length).to.be.greaterThanOrEqual(4);
    const ids = new Set(frames.flatMap((f) => f.face_ids));
    expect(answer.tracks!.map((t) => t.face_id).sort((a, b) => a - b)).to.deep.equal(
      [...ids].sort((a, b) => a - b),
    );
  });
});
