import { expect } from 'chai';
import fc from 'fast-check';
import { expectBoundedOrRefused, refusalOf } from '../support/refusal.js';
import { coerceOption, parseUploadRequest } from '../../api/validation/upload-options.js';
import { parseDetectRequest, type ImageUpload } from '../../api/validation/detect-request.schema.js';

const upload: ImageUpload = {
  bytes: Buffer.from([0xff, 0xd8, 0xff]),
  declaredType: 'image/jpeg',
  name: 'The body',
};

const refusal = (fields: [string, string][]) => refusalOf(() => parseUploadRequest(fields, upload));

describe('coerceOption', () => {
  it('when a boolean option reads true or false, then it becomes that boolean, and any other text stays text', () => {
    expect(coerceOption('single_face', 'true')).to.equal(true);
    expect(coerceOption('async', 'false')).to.equal(false);
    for (const text of ['TRUE', '1', 'yes', '', ' true'])
      expect(coerceOption('single_face', text)).to.equal(text);
  });

  it('when a number option reads as a decimal, then it becomes that number, and any other text stays text', () => {
    expect(coerceOption('num_frames', '7')).to.equal(7);
    expect(coerceOption('min_confidence', '.5')).to.equal(0.5);
    expect(coerceOption('expand_ratio', '1e-1')).to.equal(0.1);
    expect(coerceOption('num_frames', '-3')).to.equal(-3);
    for (const text of ['', ' ', '0x10', 'Infinity', 'NaN', '5px', '1,5'])
      expect(coerceOption('num_frames', text)).to.equal(text);
  });

  it('when the option is text or unknown, then the value is left as sent', () => {
    expect(coerceOption('callback_url', 'true')).to.equal('true');
    expect(coerceOption('colour', '5')).to.equal('5');
  });
});

describe('parseUploadRequest', () => {
  it('when no option is sent, then the defaults are those of a JSON body', () => {
    const options = (r: object) =>
      Object.fromEntries(Object.entries(r).filter(([k]) => !['media', 'img', 'upload'].includes(k)));
    const r = parseUploadRequest([], upload);
    expect(r).to.include({ media: 'upload', upload });
    expect(options(r)).to.deep.equal(options(parseDetectRequest({ img: 'AAAA' })));
  });

  it('when options are sent as text, then they are typed as their JSON fields', () => {
    const r = parseUploadRequest(
      [
        ['single_face', 'true'],
        ['return_face_url', 'false'],
        ['num_frames', '12'],
        ['min_confidence', '0.75'],
        ['callback_url', 'https://example.com/hook'],
      ],
      upload,
    );
    expect(r).to.deep.include({
      single_face: true,
      return_face_url: false,
      num_frames: 12,
      min_confidence: 0.75,
      callback_url: 'https://example.com/hook',
    });
  });

  it('when a value breaks its rule, then the message is the one a JSON field gets', () => {
    expect(refusal([['single_face', 'yes']])).to.deep.equal({
      status: 400,
      message: "'single_face' must be a boolean (true or false)",
    });
    expect(refusal([['num_frames', '101']]).message).to.equal(
      "'num_frames' must be an integer between 1 and 100",
    );
    expect(refusal([['callback_url', 'https://user:pw@example.com/']]).message).to.match(
      /^'callback_url' is refused: it carries a user name or password/,
    );
  });

  it('when a name is sent twice, or url or img is sent, then 400 names it', () => {
    expect(
      refusal([
        ['async', 'true'],
        ['async', 'true'],
      ]),
    ).to.deep.equal({ status: 400, message: "'async' is sent more than once; send each option once" });
    for (const media of ['url', 'img']) {
      expect(refusal([[media, 'x']]).message).to.match(
        new RegExp(`^'${media}' cannot be sent with an uploaded image`),
      );
    }
  });

  it('when unknown names are sent, then they are ignored as unknown JSON fields are', () => {
    const r = parseUploadRequest(
      [
        ['colour', 'blue'],
        ['single_face', 'true'],
      ],
      upload,
    );
    expect(r).to.not.have.property('colour');
    expect(r.single_face).to.equal(true);
  });

  it('for any text values of the known options, the request is accepted within every bound or refused with a 400', () => {
    const text = fc.oneof(
      fc.constantFrom('true', 'false', '0', '1', '100', '0.5', '-1', '2.5', ''),
      fc.string({ maxLength: 8 }),
    );
    const names = fc.constantFrom('num_frames', 'single_face', 'min_confidence', 'expand_ratio', 'async');
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(names, text), { selector: ([n]) => n, maxLength: 5 }), (fields) => {
        expectBoundedOrRefused(() => parseUploadRequest(fields, upload));
      }),
      { numRuns: 500 },
    );
  });
});
