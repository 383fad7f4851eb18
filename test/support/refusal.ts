import { expect } from 'chai';
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
