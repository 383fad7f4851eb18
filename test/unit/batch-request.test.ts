import { expect } from 'chai';
import { loadConfig, ConfigError } from '../../shared/config/config.js';
import { AppError } from '../../shared/errors/app-error.js';
import { InvalidRequestError } from '../../shared/errors/errors.js';
import { newBatchId, newJobId, parseBatchId, parseJobId } from '../../shared/queue/job-id.js';
import { parseBatchRequest } from '../../api/validation/batch-request.schema.js';

const IMG = 'aGVsbG8=';

describe('batch requests', () => {
  it('when shared options and per-item options are both set, then the item wins and the rest share', () => {
    const batch = parseBatchRequest(
      {
        single_face: true,
        num_frames: 3,
        items: [{ img: IMG }, { url: 'https://a.example/v.mp4', num_frames: 9 }],
      },
      16,
    );
    expect(batch.async).to.equal(false);
    const [first, second] = batch.items;
    expect(first).to.include({ media: 'img', single_face: true, num_frames: 3 });
    expect(second).to.include({ media: 'url', single_face: true, num_frames: 9 });
  });

  it('when one item breaks a rule, then that item alone holds the refusal, in its place', () => {
    const batch = parseBatchRequest({ items: [{ img: IMG }, { num_frames: 0, img: IMG }, 'x', {}] }, 16);
    expect(batch.items[0]).to.not.be.instanceOf(AppError);
    for (const i of [1, 2, 3]) expect(batch.items[i]).to.be.instanceOf(InvalidRequestError);
    expect((batch.items[1] as AppError).message).to.include('num_frames');
    expect((batch.items[3] as AppError).message).to.include("'url' or 'img'");
  });

  it('when there are more items than the limit, then 400 names the limit before any item is read', () => {
    const items = Array.from({ length: 17 }, () => ({ img: IMG }));
    expect(() => parseBatchRequest({ items }, 16))
      .to.throw(InvalidRequestError, 'at most 16 per batch (MAX_BATCH_ITEMS)')
      .with.property('httpStatus', 400);
    expect(parseBatchRequest({ items: items.slice(1) }, 16).items).to.have.length(16);
  });

  it('when items are missing or empty, or the batch asks for a callback, then 400 says why', () => {
    expect(() => parseBatchRequest({}, 16)).to.throw(InvalidRequestError, "'items'");
    expect(() => parseBatchRequest({ items: [] }, 16)).to.throw(InvalidRequestError, "'items'");
    expect(() => parseBatchRequest([], 16)).to.throw(InvalidRequestError, 'JSON object');
    expect(() => parseBatchRequest({ items: [{ img: IMG }], async: 'yes' }, 16)).to.throw(/'async'/);
    for (const body of [
      { items: [{ img: IMG, callback_url: 'https://hook.example/' }] },
      { items: [{ img: IMG }], callback_url: 'ftp://hook.example/' },
      { items: [{ img: IMG }], callback_url: 'https://user:pw@hook.example/' },
      { items: [{ img: IMG }], callback_url: 42 },
    ])
      expect(() => parseBatchRequest(body, 16)).to.throw(/callback_url/);
  });

  it('when the batch names a callback_url, then the batch carries it and its items do not', () => {
    const batch = parseBatchRequest({ items: [{ img: IMG }], callback_url: 'https://hook.example/b' }, 16);
    expect(batch.callbackUrl).to.equal('https://hook.example/b');
    expect(batch.items[0]).to.not.have.property('callback_url');
  });

  it('when an item sends async, then the batch alone decides', () => {
    const batch = parseBatchRequest({ async: true, items: [{ img: IMG, async: false }] }, 16);
    expect(batch.async).to.equal(true);
  });
});

describe('batch ids and MAX_BATCH_ITEMS', () => {
  it('when a batch id is made, then it parses back to its time, and never as a detect job id', () => {
    const id = newBatchId(1_700_000_000_000);
    expect(id).to.match(/^b-/);
    expect(parseBatchId(id)).to.deep.equal({ createdAt: 1_700_000_000_000 });
    expect(parseJobId(id)).to.equal(undefined);
    expect(parseBatchId(newJobId('image'))).to.equal(undefined);
  });

  it('when MAX_BATCH_ITEMS is unset, then 16; a set value wins, and 0 is refused', () => {
    expect(loadConfig({}).limits.maxBatchItems).to.equal(16);
    expect(loadConfig({ MAX_BATCH_ITEMS: '4' }).limits.maxBatchItems).to.equal(4);
    expect(() => loadConfig({ MAX_BATCH_ITEMS: '0' })).to.throw(ConfigError, 'MAX_BATCH_ITEMS="0"');
  });
});
