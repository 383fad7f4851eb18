import { expect } from 'chai';
import { linkedJobId, newJobId, parseJobId } from '../../shared/queue/job-id.js';
import { guessKindFromUrl } from '../../shared/media/media-sniffer.js';
import { decodeJobError, encodeJobError } from '../../shared/errors/job-error-codec.js';
import { PayloadTooLargeError } from '../../shared/errors/errors.js';

describe('job ids', () => {
  it('when an id is made, then it parses back to its queue and creation time', () => {
    const id = newJobId('video', 1_700_000_000_000);
    expect(parseJobId(id)).to.deep.equal({ kind: 'video', createdAt: 1_700_000_000_000 });
    expect(newJobId('image')).to.not.equal(newJobId('image'));
  });

  it('when a job moves lanes, then its linked id is the same id in the other lane, and links back', () => {
    const id = newJobId('image', 1_700_000_000_000);
    const linked = linkedJobId(id);
    expect(parseJobId(linked)).to.deep.equal({ kind: 'video', createdAt: 1_700_000_000_000 });
    expect(linked.slice(1)).to.equal(id.slice(1));
    expect(linkedJobId(linked)).to.equal(id);
  });

  it('when an id is malformed, then it does not parse', () => {
    for (const id of ['', '42', 'x-abc-00000000-0000-0000-0000-000000000000', 'i-abc-not-a-uuid', '../etc'])
      expect(parseJobId(id)).to.equal(undefined);
  });
});

describe('guessKindFromUrl', () => {
  it('when a URL has a video extension, then the first guess is video', () => {
    expect(guessKindFromUrl('https://x.test/a/clip.MP4?sig=1')).to.equal('video');
    expect(guessKindFromUrl('https://x.test/photo.jpg')).to.equal('image');
    expect(guessKindFromUrl('https://x.test/download')).to.equal('image');
  });
});

describe('job error codec', () => {
  it('when an AppError is encoded, then the gateway decodes the same status and message', () => {
    const decoded = decodeJobError(encodeJobError(new PayloadTooLargeError('too big')));
    expect([decoded.code, decoded.httpStatus, decoded.message]).to.deep.equal([
      'PAYLOAD_TOO_LARGE',
      413,
      'too big',
    ]);
  });

  it('when a failure reason is not encoded, then a generic internal error hides it', () => {
    const decoded = decodeJobError('TypeError: x is undefined at /srv/app/worker.js:12');
    expect(decoded.httpStatus).to.equal(500);
    expect(decoded.message).to.not.include('/srv');
  });
});
