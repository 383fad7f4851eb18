import { expect } from 'chai';
import type { Request, Response } from 'express';
import { pino } from 'pino';
import { errorHandler } from '../../api/middleware/error-handler.middleware.js';
import { QueueFullError, RateLimitedError } from '../../shared/errors/errors.js';
import { decodeJobError, encodeJobError } from '../../shared/errors/job-error-codec.js';

/** What the handler answers for `err`: its status, headers and body. */
function answer(err: unknown) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
  const res = {
    headersSent: false,
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return this;
    },
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
      return this;
    },
  };
  const req = { complete: true, id: 'request-1' };
  const handle = errorHandler(pino({ level: 'silent' }), 1000);
  void handle(err, req as unknown as Request, res as unknown as Response, () => undefined);
  return sent;
}

describe('errorHandler: Retry-After', () => {
  it('when the gateway finds a queue full, then its 503 carries Retry-After', () => {
    const sent = answer(new QueueFullError('image', 5, 5));
    expect(sent.status).to.equal(503);
    expect(sent.headers['retry-after']).to.equal('10');
  });

  it('when a worker refused a job for a full lane, then the 503 the gateway answers with carries the same Retry-After', () => {
    const fromWorker = decodeJobError(encodeJobError(new QueueFullError('video', 5, 5)));
    const sent = answer(fromWorker);
    expect(sent.status).to.equal(503);
    expect(sent.headers['retry-after']).to.equal('10');
    expect(sent.body).to.deep.include({
      error_msg:
        'The video queue is full: 5 jobs are waiting, the limit is 5 (MAX_QUEUE_DEPTH); try again later',
    });
  });

  it('when a request is rate limited, then its 429 carries Retry-After', () => {
    const sent = answer(new RateLimitedError('Too many requests', 7));
    expect(sent.status).to.equal(429);
    expect(sent.headers['retry-after']).to.equal('7');
  });
});
