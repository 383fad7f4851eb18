import { MESSAGES } from '../../shared/contract/api-contract.js';
import { AppError } from '../../shared/errors/app-error.js';
import {
  DownloadFailedError,
  InvalidRequestError,
  PayloadTooLargeError,
} from '../../shared/errors/errors.js';

export interface ByteLimit {
  /** Bytes of the decoded body; one more fails the fetch with PayloadTooLargeError. */
  maxBytes: number;
  /** The setting behind `maxBytes`, named in the error so an operator knows what to raise. */
  limitName?: string;
}

const TLS_FAILURE = /^(EPROTO$|ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;
const NETWORK_FAULTS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network unreachable',
  EPIPE: 'connection closed while sending',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed before the body was complete',
};
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

export function tooLarge({ maxBytes, limitName }: ByteLimit): PayloadTooLargeError {
  const setting = limitName ? ` (${limitName})` : '';
  return new PayloadTooLargeError(
    `Media at the URL is larger than the ${maxBytes}-byte limit${setting}; use a smaller file`,
  );
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
  const fault = NETWORK_FAULTS[code];
  return fault ? new DownloadFailedError(fault, true, { cause: err }) : err;
}
