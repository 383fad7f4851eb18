import { UnrecoverableError } from 'bullmq';
import { expect } from 'chai';
import {
  DownloadFailedError,
  InternalError,
  PayloadTooLargeError,
  StorageError,
} from '../../shared/errors/errors.js';
import { decodeJobError } from '../../shared/errors/job-error-codec.js';
import { judgeFailedAttempt } from '../../worker/queue/failed-attempt.js';

/** What a client polling the job is answered, from the reason BullMQ records. */
const answered = (thrown: Error) => {
  const error = decodeJobError(thrown.message);
  return { code: error.code, message: error.message, status: error.httpStatus };
};

describe('judgeFailedAttempt: which failed attempts are retried', () => {
  it('when the request is at fault (an AppError not retryable), then it fails at once with that error', () => {
    const err = new PayloadTooLargeError('too big');
    const failure = judgeFailedAttempt(err, 1, 3);
    expect(failure.cause).to.equal('rejected');
    expect(failure.retry).to.equal(false);
    expect(failure.error).to.equal(err);
    expect(failure.thrown).to.be.instanceOf(UnrecoverableError);
    expect(answered(failure.thrown)).to.deep.equal({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'too big',
      status: 413,
    });
  });

  it('when a retryable AppError fails an attempt with attempts left, then it is retried, its error carried', () => {
    const err = new DownloadFailedError('connection reset', true);
    const failure = judgeFailedAttempt(err, 1, 3);
    expect(failure.cause).to.equal('transient');
    expect(failure.retry).to.equal(true);
    expect(failure.error).to.equal(err);
    expect(failure.thrown).to.not.be.instanceOf(UnrecoverableError);
    expect(answered(failure.thrown)).to.deep.equal({
      code: 'DOWNLOAD_FAILED',
      message: err.message,
      status: 502,
    });
  });

  it('when a retryable AppError fails the last attempt, then it is not retried and its error is the answer', () => {
    const err = new StorageError('503 from the bucket');
    const failure = judgeFailedAttempt(err, 3, 3);
    expect(failure.retry).to.equal(false);
    expect(failure.error).to.equal(err);
    expect(answered(failure.thrown).code).to.equal('STORAGE_FAILED');
  });

  it('when the job has no attempts option, then its single attempt is its last', () => {
    expect(judgeFailedAttempt(new StorageError('down'), 1).retry).to.equal(false);
  });

  it('when a socket fault that is not ours fails an attempt, then it is retried as thrown and answers INTERNAL at the end', () => {
    const err = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const retried = judgeFailedAttempt(err, 1, 2);
    expect(retried).to.include({ cause: 'transient', retry: true, thrown: err });
    expect(retried.error).to.be.instanceOf(InternalError);
    expect(judgeFailedAttempt(err, 2, 2).retry).to.equal(false);
  });

  it('when Redis is unreachable mid-job, then the attempt is retried', () => {
    expect(judgeFailedAttempt(new Error('Connection is closed.'), 1, 3).retry).to.equal(true);
  });

  it('when an unexpected error (a bug) fails an attempt, then it fails at once as INTERNAL, hiding its message', () => {
    for (const err of [new TypeError("Cannot read properties of undefined (reading 'x')"), 'a string']) {
      const failure = judgeFailedAttempt(err, 1, 3);
      expect(failure.cause).to.equal('unexpected');
      expect(failure.retry).to.equal(false);
      expect(failure.error).to.be.instanceOf(InternalError);
      expect(failure.thrown).to.be.instanceOf(UnrecoverableError);
      expect(answered(failure.thrown)).to.deep.equal({
        code: 'INTERNAL',
        message: new InternalError().message,
        status: 500,
      });
    }
  });
});
