import { tooLarge, type ByteLimit } from '../../shared/errors/byte-limit.js';
import { NETWORK_FAULTS } from '../../shared/errors/transient.js';
import { MESSAGES } from '../../shared/contract/api-contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import {
  DownloadFailedError,
  InvalidRequestError,
  PayloadTooLargeError,
} from '../../shared/errors/errors.js';

const TLS_FAILURE = /^(EPROTO$|ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;
export function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidRequestError(MESSAGES.invalidUrl);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidRequestError(MESSAGES.invalidUrl);
  return url;
}

/** Bytes of the decoded body, the setting they come from; one more fails the fetch. */
export function mediaTooLarge(limit: ByteLimit): PayloadTooLargeError {
  return tooLarge('Media at the URL', limit, 'use a smaller file');
}

/**
 * Socket, TLS, parser and zlib errors become download failures. Anything else, such as a local file
 * error while writing or a bug, stays as it is rather than pass for the remote server's fault.
 */
export function asFetchError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return err;
  if (TLS_FAILURE.test(code)) return new DownloadFailedError(`TLS failure (${code})`, false, { cause: err });
  if (code.startsWith('HPE_'))
    return new DownloadFailedError('malformed HTTP response', false, { cause: err });
  if (code.startsWith('Z_')) return new DownloadFailedError('corrupt compressed body', false, { cause: err });
  const fault = Object.hasOwn(NETWORK_FAULTS, code) ? NETWORK_FAULTS[code] : undefined;
  return fault ? new DownloadFailedError(fault, true, { cause: err }) : err;
}
