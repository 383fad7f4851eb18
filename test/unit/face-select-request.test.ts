import { expect } from 'chai';
import { parseDetectRequest } from '../../api/validation/detect-request.schema.js';
import { parseUploadRequest } from '../../api/validation/upload-options.js';
import { refusalOf } from '../support/refusal.js';

const upload = { bytes: Buffer.alloc(0), declaredType: 'image/jpeg', name: 'The body' };

describe('face_select in requests', () => {
  it('when each rule is named, then it is accepted, in JSON and as an upload option', () => {
    for (const rule of ['largest', 'center_largest', 'best']) {
      expect(parseDetectRequest({ img: 'AAAA', face_select: rule }).face_select).to.equal(rule);
      expect(parseUploadRequest([['face_select', rule]], upload).face_select).to.equal(rule);
    }
    expect(parseDetectRequest({ img: 'AAAA' }).face_select).to.equal(undefined);
  });

  it('when face_select names no rule, then a 400 lists the rules', () => {
    expect(refusalOf(() => parseDetectRequest({ img: 'AAAA', face_select: 'biggest' }))).to.deep.equal({
      status: 400,
      message: "'face_select' must be one of 'largest', 'center_largest', 'best'",
    });
  });

  it('when face_select comes with max_faces above 1, then a 400 says they conflict; max_faces 1 is fine', () => {
    const message =
      "'face_select' keeps one face per frame and cannot go with 'max_faces' 2; send one of them, or 'max_faces' 1";
    expect(
      refusalOf(() => parseDetectRequest({ img: 'AAAA', face_select: 'best', max_faces: 2 })),
    ).to.deep.equal({
      status: 400,
      message,
    });
    const fields = [
      ['face_select', 'largest'],
      ['max_faces', '2'],
    ] as const;
    expect(refusalOf(() => parseUploadRequest(fields, upload))).to.deep.equal({ status: 400, message });
    expect(parseDetectRequest({ img: 'AAAA', face_select: 'best', max_faces: 1 }).max_faces).to.equal(1);
  });
});
