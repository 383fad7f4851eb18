import { expect } from 'chai';
import fc from 'fast-check';
import { parseDetectRequest } from '../../api/validation/detect-request.schema.js';
import { parseImagePayload } from '../../api/validation/image-payload.js';
import { AppError } from '../../shared/errors/app-error.js';
import { expectBoundedOrRefused, refusalOf } from '../support/refusal.js';

describe('parseDetectRequest', () => {
  it('when only img is given, then defaults are filled in', () => {
    const r = parseDetectRequest({ img: 'AAAA' });
    expect(r).to.deep.include({
      media: 'img',
      img: 'AAAA',
      num_frames: 5,
      return_face_url: false,
      single_face: false,
      async: false,
      expand_ratio: 0.3,
    });
    expect(r.min_confidence).to.equal(undefined);
  });

  it('when both url and img are given, then url wins', () => {
    expect(parseDetectRequest({ url: 'https://example.com/a.jpg', img: 'AAAA' })).to.include({
      media: 'url',
      url: 'https://example.com/a.jpg',
    });
  });

  it('when neither url nor img is given, then the seed message is used', () => {
    expect(refusalOf(() => parseDetectRequest({}))).to.deep.equal({
      status: 400,
      message: "Either 'url' or 'img' parameter must be provided",
    });
  });

  it('when the url is not http(s), then the answer is Invalid URL format', () => {
    for (const url of [
      'ftp://example.com/a.jpg',
      'file:///etc/passwd',
      'not a url',
      'javascript:alert(1)',
      'http://',
    ]) {
      expect(refusalOf(() => parseDetectRequest({ url }))).to.deep.equal({
        status: 400,
        message: 'Invalid URL format',
      });
    }
  });

  it('when types are loose, then each violation names its field and rule', () => {
    const { message } = refusalOf(() =>
      parseDetectRequest({ img: 'AAAA', single_face: 'true', num_frames: '5', min_confidence: 2 }),
    );
    expect(message).to.include("'single_face' must be a boolean");
    expect(message).to.include("'num_frames' must be an integer between 1 and 100");
    expect(message).to.include("'min_confidence' must be a number between 0 and 1");
  });

  it('when num_frames is out of bounds or fractional, then the bounds are named', () => {
    for (const n of [0, 101, 2.5, -1]) {
      expect(refusalOf(() => parseDetectRequest({ img: 'AAAA', num_frames: n })).message).to.equal(
        "'num_frames' must be an integer between 1 and 100",
      );
    }
  });

  it('when unknown fields are sent, then they are ignored', () => {
    expect(parseDetectRequest({ img: 'AAAA', colour: 'blue' })).to.not.have.property('colour');
  });

  it('for any JSON value, the validator either accepts it or throws a 400 with a message, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        try {
          parseDetectRequest(body);
        } catch (err) {
          expect(err).to.be.instanceOf(AppError);
          expect((err as AppError).httpStatus).to.equal(400);
          expect((err as AppError).message).to.be.a('string').and.not.be.empty;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('for any record of the known fields with arbitrary values, accepted requests respect every bound', () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.record(
          {
            img: fc.oneof(fc.string(), anything),
            num_frames: anything,
            single_face: anything,
            min_confidence: anything,
            expand_ratio: anything,
          },
          { requiredKeys: ['img'] },
        ),
        (body) => expectBoundedOrRefused(() => parseDetectRequest(body)),
      ),
      { numRuns: 500 },
    );
  });
});

describe('parseImagePayload', () => {
  it('when plain or data-URI base64 is given, then the bytes and declared type come back', () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]);
    expect(parseImagePayload(bytes.toString('base64'), 100).bytes).to.deep.equal(bytes);
    const uri = parseImagePayload(`data:image/jpeg;base64,${bytes.toString('base64')}`, 100);
    expect(uri.bytes).to.deep.equal(bytes);
    expect(uri.declaredType).to.equal('image/jpeg');
    expect(parseImagePayload(bytes.toString('base64url'), 100).bytes).to.deep.equal(bytes);
    expect(
      parseImagePayload(`${bytes.toString('base64').slice(0, 4)}\n${bytes.toString('base64').slice(4)}`, 100)
        .bytes,
    ).to.deep.equal(bytes);
  });

  it('when base64 is wrapped MIME-style or padded before a line break, then it decodes as unwrapped', () => {
    const bytes = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37) % 256));
    const wrapped = (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
    expect(parseImagePayload(`${wrapped}\r\n`, 1000).bytes).to.deep.equal(bytes);
    expect(parseImagePayload(` ${bytes.toString('base64url')}\n`, 1000).bytes).to.deep.equal(bytes);
    expect(refusalOf(() => parseImagePayload(' \n\t ', 1000)).message).to.include("'img' is empty");
  });

  it('when the base64 has bad characters, then a 400 says so', () => {
    for (const bad of ['ab$d', 'abc!', '====', 'a', 'data:image/png,abc', 'data:;base64']) {
      expect(refusalOf(() => parseImagePayload(bad, 100)).status, bad).to.equal(400);
    }
  });

  it('when the decoded size would exceed the limit, then 413 names the limit before decoding', () => {
    const { status, message } = refusalOf(() => parseImagePayload('A'.repeat(4000), 1000));
    expect(status).to.equal(413);
    expect(message).to.include('1000-byte limit');
  });

  it('for any bytes, encoding then parsing gives the same bytes back, in both alphabets and as a data URI', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (arr) => {
        const buf = Buffer.from(arr);
        expect(parseImagePayload(buf.toString('base64'), 1000).bytes.equals(buf)).to.equal(true);
        expect(parseImagePayload(buf.toString('base64url'), 1000).bytes.equals(buf)).to.equal(true);
        expect(
          parseImagePayload(`data:image/png;base64,${buf.toString('base64')}`, 1000).bytes.equals(buf),
        ).to.equal(true);
      }),
    );
  });

  it('for any string, the parser either returns bytes or throws a 400/413, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          parseImagePayload(s, 100);
        } catch (err) {
          expect(err).to.be.instanceOf(AppError);
          expect([400, 413]).to.include((err as AppError).httpStatus);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
