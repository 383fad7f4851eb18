import { expect } from 'chai';
import type { DetectRequest } from '../../api/validation/detect-request.schema.js';
import { AppError } from '../../shared/errors/app-error.js';

/** The status and message of the AppError that `fn` throws; fails the test if it throws none. */
export function refusalOf(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return { status: (err as AppError).httpStatus, message: (err as AppError).message };
  }
  throw new Error('expected a refusal');
}

/**
 * What a parsed detect request must hold whatever the client sent: the bounded options within their
 * bounds, or else a 400.
 */
export function expectBoundedOrRefused(parse: () => DetectRequest): void {
  try {
    const r = parse();
    expect(Number.isInteger(r.num_frames) && r.num_frames >= 1 && r.num_frames <= 100).to.equal(true);
    expect(typeof r.single_face).to.equal('boolean');
    if (r.min_confidence !== undefined) expect(r.min_confidence).to.be.within(0, 1);
    expect(r.expand_ratio).to.be.within(0, 2);
  } catch (err) {
    expect((err as AppError).httpStatus).to.equal(400);
  }
}
