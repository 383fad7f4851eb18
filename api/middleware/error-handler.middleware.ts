import { tooLarge } from '../uploads/byte-limits.js';
import type { ErrorRequestHandler, Response } from 'express';
import type { ErrorAnswer } from '../../shared/contract/api-contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import { InternalError, InvalidRequestError } from '../../shared/errors/errors.js';
import type { Logger } from '../../shared/logging/logger.js';

function sendError(res: Response, err: AppError): void {
  if (err.retryAfterS !== undefined) res.setHeader('Retry-After', String(err.retryAfterS));
  const body: ErrorAnswer = { error_code: 1, error_msg: err.message, faces_obj: {} };
  res.status(err.httpStatus).json(body);
}

/** The one place where errors become the answer contract. Unknown errors are logged and never shown. */
export function errorHandler(log: Logger, maxBodyBytes: number): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    // Refused before its body is all in (auth, rate limit, a size passed while streaming): the connection
    // closes after the answer, rather than Node reading the rest of a body nobody wants.
    if (!req.complete) res.setHeader('Connection', 'close');
    sendError(
      res,
      toAppError(err, maxBodyBytes, (e) => log.error({ err: e, requestId: req.id }, 'unhandled error')),
    );
  };
}

function toAppError(err: unknown, maxBodyBytes: number, logUnknown: (e: unknown) => void): AppError {
  if (err instanceof AppError) return err;
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.too.large') {
    return tooLarge('The request body', { bytes: maxBodyBytes, setting: 'MAX_BODY_BYTES' });
  }
  if (type === 'entity.parse.failed') return new InvalidRequestError('The request body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new InvalidRequestError('The request body must be UTF-8 JSON');
  }
  logUnknown(err);
  return new InternalError();
}
