import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UrlRefusedError, URL_REFUSALS } from '../errors/errors.js';
import { isPublicAddress } from './address-guard.js';

export interface UrlGuardOptions {
  /** Lets any address through (ALLOW_PRIVATE_URLS). @defaultValue false */
  allowPrivateAddresses?: boolean;
  /** Which resolved addresses are allowed. @defaultValue isPublicAddress */
  isAllowedAddress?: (ip: string) => boolean;
  /** Longest a name's resolution may take; then it counts as unresolved. @defaultValue 2000 */
  timeoutMs?: number;
}

/**
 * The check a URL must pass before it is accepted: every address its host resolves to must be allowed.
 * The gateway runs it on `callback_url` when a job is submitted, so a refusal is a 400 then and not a
 * silent failure at delivery; the worker checks again at every connection, which is what actually holds.
 * Names are resolved over DNS (c-ares, not the thread pool that getaddrinfo would tie up) within a
 * deadline, so a nameserver that never answers cannot stall the gateway.
 */
export class UrlGuard {
  private readonly allowAll: boolean;
  private readonly isAllowed: (ip: string) => boolean;
  private readonly timeoutMs: number;
  private readonly resolver: Resolver;

  constructor(options: UrlGuardOptions = {}) {
    this.allowAll = options.allowPrivateAddresses ?? false;
    this.isAllowed = options.isAllowedAddress ?? isPublicAddress;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.resolver = new Resolver({ timeout: this.timeoutMs, tries: 1 });
  }

  async check(field: string, raw: string): Promise<void> {
    if (this.allowAll) return;
    const host = new URL(raw).hostname.replace(/^\[(.*)\]$/, '$1');
    // Resolved from /etc/hosts, which DNS does not see.
    if (host === 'localhost' || host.endsWith('.localhost'))
      throw new UrlRefusedError(field, URL_REFUSALS.address);
    // A name that does not resolve now is left to the delivery, which retries: DNS may be slow to update.
    const addresses = isIP(host) ? [host] : await this.resolve(host);
    if (addresses.some((a) => !this.isAllowed(a))) throw new UrlRefusedError(field, URL_REFUSALS.address);
  }

  private async resolve(host: string): Promise<string[]> {
    const deadline = new Promise<string[][]>((resolve) =>
      setTimeout(() => resolve([]), this.timeoutMs).unref(),
    );
    const lookups = Promise.all([
      this.resolver.resolve4(host).catch(() => []),
      this.resolver.resolve6(host).catch(() => []),
    ]);
    return (await Promise.race([lookups, deadline])).flat();
  }
}
