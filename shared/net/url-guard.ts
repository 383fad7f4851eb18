import dns from 'node:dns';
import { isIP } from 'node:net';
import { UrlRefusedError, URL_REFUSALS } from '../errors/errors.js';
import { isPublicAddress } from './address-guard.js';

export interface UrlGuardOptions {
  /** Lets any address through (ALLOW_PRIVATE_URLS). @defaultValue false */
  allowPrivateAddresses?: boolean;
  /** Which resolved addresses are allowed. @defaultValue isPublicAddress */
  isAllowedAddress?: (ip: string) => boolean;
}

/**
 * The check a URL must pass before it is accepted: every address its host resolves to must be allowed.
 * The gateway runs it on `callback_url` when a job is submitted, so a refusal is a 400 then and not a
 * silent failure at delivery; the worker checks again at every connection, which is what actually holds.
 */
export class UrlGuard {
  private readonly isAllowed: (ip: string) => boolean;

  constructor(options: UrlGuardOptions = {}) {
    this.isAllowed = options.allowPrivateAddresses
      ? () => true
      : (options.isAllowedAddress ?? isPublicAddress);
  }

  async check(field: string, raw: string): Promise<void> {
    const host = new URL(raw).hostname.replace(/^\[(.*)\]$/, '$1');
    // A name that does not resolve now is left to the delivery, which retries: DNS may be slow to update.
    const addresses = isIP(host)
      ? [host]
      : await dns.promises.lookup(host, { all: true }).then(
          (found) => found.map((a) => a.address),
          () => [],
        );
    if (addresses.some((a) => !this.isAllowed(a))) throw new UrlRefusedError(field, URL_REFUSALS.address);
  }
}
