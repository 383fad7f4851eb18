import { withDeadline } from '../../shared/queue/timeout.js';
import dns, { type LookupAddress } from 'node:dns';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { DownloadFailedError, UrlRefusedError, URL_REFUSALS } from '../../shared/errors/errors.js';
import { isPublicAddress } from '../../shared/net/address-guard.js';
import { asFetchError, parseHttpUrl } from './fetch-errors.js';

export interface GuardedHttpClientOptions {
  /**
   * Lets URLs reach loopback, private and other non-public addresses. Only for deployments where every
   * client is trusted, since it lets a URL probe the internal network.
   * @defaultValue false
   */
  allowPrivateAddresses?: boolean;
  /** Redirects followed per request; the next one fails it. @defaultValue 5 */
  maxRedirects?: number;
  /** A connection that receives nothing for this long is given up. @defaultValue 10000 */
  stallTimeoutMs?: number;
  /** Sent as the User-Agent header. @defaultValue 'facedetect-media-fetcher' */
  userAgent?: string;
  /**
   * Decides which resolved addresses may be contacted while `allowPrivateAddresses` is false.
   * Default `isPublicAddress`; tests narrow it to tell two loopback servers apart.
   */
  isAllowedAddress?: (ip: string) => boolean;
}

export interface OutgoingRequest {
  method: 'GET' | 'POST';
  headers: OutgoingHttpHeaders;
  body?: Buffer;
  /**
   * Keep-alive agents of one caller that talks to one origin many times (the range proxy). Every new socket
   * still connects to the addresses checked for its own request; only its own earlier sockets are reused.
   */
  agents?: KeepAliveAgents;
  /** Reached by a redirect: a refusal then says so. */
  redirected?: boolean;
}

export interface KeepAliveAgents {
  http: http.Agent;
  https: https.Agent;
}

/** Agents for one caller's repeated requests; destroy them when done. */
export function keepAliveAgents(): KeepAliveAgents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: 4 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 4 }),
  };
}

type CheckedAddresses = [LookupAddress, ...LookupAddress[]];

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The only code that opens connections to user-supplied URLs. Every hop is resolved here and each
 * resolved address checked before connecting, and the connection goes to exactly the checked address,
 * so neither a redirect nor a DNS answer that changes between check and connect (rebinding) can
 * reach an internal address. Downloads, range reads and webhooks all go through it.
 */
export class GuardedHttpClient {
  private readonly maxRedirects: number;
  readonly stallTimeoutMs: number;
  private readonly userAgent: string;
  private readonly isAllowed: (ip: string) => boolean;

  constructor(options: GuardedHttpClientOptions = {}) {
    this.maxRedirects = options.maxRedirects ?? 5;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 10_000;
    this.userAgent = options.userAgent ?? 'facedetect-media-fetcher';
    this.isAllowed = options.allowPrivateAddresses
      ? () => true
      : (options.isAllowedAddress ?? isPublicAddress);
  }

  /**
   * Runs `work` under a total timeout and the caller's signal. Whatever stops a transfer (deadline,
   * stall, caller) aborts `transfer` with the error to report, and that error wins over the socket
   * errors the teardown causes.
   */
  async withDeadline<T>(
    timeoutMs: number,
    outer: AbortSignal | undefined,
    work: (transfer: AbortController) => Promise<T>,
  ): Promise<T> {
    const timedOut = () => new DownloadFailedError(`timed out after ${timeoutMs} ms`, true);
    let transfer: AbortController | undefined;
    try {
      return await withDeadline(timeoutMs, timedOut, (controller) => work((transfer = controller)), outer);
    } catch (err) {
      throw transfer?.signal.aborted ? transfer.signal.reason : asFetchError(err);
    }
  }

  /** GET, following redirects through the guard; answers the first response that is not a redirect. */
  async get(
    rawUrl: string,
    headers: OutgoingHttpHeaders,
    transfer: AbortController,
    agents?: KeepAliveAgents,
  ): Promise<{ response: IncomingMessage; finalUrl: string }> {
    let url = parseHttpUrl(rawUrl);
    for (let redirects = 0; ; redirects++) {
      const response = await this.request(
        url,
        { method: 'GET', headers: { accept: '*/*', ...headers }, agents, redirected: redirects > 0 },
        transfer,
      );
      if (!REDIRECT_STATUSES.has(response.statusCode ?? 0)) return { response, finalUrl: url.href };
      response.destroy();
      if (redirects >= this.maxRedirects) {
        throw new DownloadFailedError(`more than ${this.maxRedirects} redirects`, false);
      }
      url = redirectTarget(response, url);
    }
  }

  /** One request to the checked addresses of `url`'s host; no redirect is followed. */
  async request(url: URL, outgoing: OutgoingRequest, transfer: AbortController): Promise<IncomingMessage> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = await this.checkedAddresses(host, transfer.signal, outgoing.redirected ?? false);
    const { signal } = transfer;
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request({
        method: outgoing.method,
        host,
        port: url.port ? Number(url.port) : undefined,
        path: `${url.pathname}${url.search}`,
        headers: { 'user-agent': this.userAgent, ...outgoing.headers },
        // A fresh agent per request, unless the caller keeps its own: a socket from a shared pool could have
        // been opened under another check.
        agent: (url.protocol === 'https:' ? outgoing.agents?.https : outgoing.agents?.http) ?? false,
        lookup: pinnedLookup(addresses),
        servername: isIP(host) ? undefined : host,
      });
      let response: IncomingMessage | undefined;
      signal.addEventListener(
        'abort',
        () => {
          req.destroy();
          response?.destroy();
          reject(signal.reason as Error);
        },
        { once: true },
      );
      req.setTimeout(this.stallTimeoutMs, () =>
        transfer.abort(new DownloadFailedError(`no data for ${this.stallTimeoutMs} ms`, true)),
      );
      req.on('error', reject);
      req.once('response', (res) => {
        response = res;
        resolve(res);
      });
      req.end(outgoing.body);
    });
  }

  private async checkedAddresses(
    host: string,
    signal: AbortSignal,
    redirected: boolean,
  ): Promise<CheckedAddresses> {
    const family = isIP(host);
    const addresses = family ? [{ address: host, family }] : await lookupAll(host, signal);
    const [first, ...rest] = addresses;
    if (!first || !addresses.every((a) => this.isAllowed(a.address))) {
      throw new UrlRefusedError('url', redirected ? URL_REFUSALS.redirectAddress : URL_REFUSALS.address);
    }
    return [first, ...rest];
  }
}

/** The user's URL was fine, so a bad Location is the server's fault, not an invalid request. */
function redirectTarget(response: IncomingMessage, from: URL): URL {
  const location = response.headers.location;
  if (!location) throw new DownloadFailedError(`HTTP ${response.statusCode} without a Location`, false);
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new DownloadFailedError('redirected to an invalid URL', false);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new UrlRefusedError('url', URL_REFUSALS.redirectScheme);
  }
  return target;
}

async function lookupAll(host: string, signal: AbortSignal): Promise<LookupAddress[]> {
  try {
    return await abortable(dns.promises.lookup(host, { all: true }), signal);
  } catch (err) {
    if (signal.aborted) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DownloadFailedError(`could not resolve host ${host}`, code !== 'ENOTFOUND', { cause: err });
  }
}

/** dns.lookup cannot be cancelled; this stops waiting for it. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Hands the socket the addresses that were already checked instead of asking DNS again. */
function pinnedLookup(addresses: CheckedAddresses): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
}
