import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '../queue/redis-connection.js';

export type LinkSecrets = [current: string, ...previous: string[]];

export interface CropLinkSignerOptions {
  /**
   * The secret links are signed with, then earlier ones still accepted while links signed with them live.
   * Asked for on first use and kept: it may come from Redis, which need not be up when a process starts.
   */
  secrets: () => Promise<LinkSecrets>;
  /** How long a link is valid after it was made, in seconds (CROP_URL_TTL_S). */
  ttlS: number;
  /** Prefix of the links handed out: PUBLIC_BASE_URL, or '' for gateway-relative links. */
  base?: string;
}

export type LinkCheck = 'valid' | 'expired' | 'invalid';

const RELOAD_AFTER_MS = 10_000;
/**
 * The one spelling of each part that a link is accepted in: an expiry without leading zeros, and the MAC as
 * the 43 characters base64url gives it. Any other spelling of the same numbers (padding, standard base64,
 * stray characters a lenient decoder skips, spare bits in the last character) is refused; with the request
 * target compared whole (`linkTarget`), a signed link has exactly one form.
 */
const EXPIRY = /^(0|[1-9]\d{0,11})$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Crop links are capabilities: `/crops/<key>?exp=<unix s>&sig=<HMAC-SHA256 of key and exp>`. Whoever holds
 * one may read that one crop until it expires, and nothing else; a bare key, a changed key or expiry, or a
 * signature of a retired secret is refused. One form for every store: the gateway checks and serves.
 */
export class CropLinkSigner {
  private readonly base: string;
  private secrets: Promise<LinkSecrets> | undefined;
  private loadedAt = 0;

  constructor(private readonly options: CropLinkSignerOptions) {
    this.base = (options.base ?? '').replace(/\/+$/, '');
  }

  async sign(key: string, nowMs = Date.now()): Promise<string> {
    const [current] = await this.loadSecrets();
    const exp = Math.floor(nowMs / 1000) + this.options.ttlS;
    return `${this.base}${linkTarget(key, exp, mac(current, key, exp))}`;
  }

  async check(key: string, exp: unknown, sig: unknown, nowMs = Date.now()): Promise<LinkCheck> {
    if (typeof exp !== 'string' || typeof sig !== 'string' || !EXPIRY.test(exp) || !SIGNATURE.test(sig))
      return 'invalid';
    // Both are 43 ASCII characters here, so the text itself is compared, byte for byte.
    const given = Buffer.from(sig, 'ascii');
    const signedBy = (secrets: LinkSecrets) =>
      secrets.some((secret) => timingSafeEqual(Buffer.from(mac(secret, key, Number(exp)), 'ascii'), given));
    let signed = signedBy(await this.loadSecrets());
    // A secret kept in Redis may have been made anew (Redis lost it): look again, at most every 10 s.
    if (!signed && Date.now() - this.loadedAt > RELOAD_AFTER_MS) {
      this.secrets = undefined;
      signed = signedBy(await this.loadSecrets());
    }
    if (!signed) return 'invalid';
    return Number(exp) * 1000 < nowMs ? 'expired' : 'valid';
  }

  private loadSecrets(): Promise<LinkSecrets> {
    if (!this.secrets) this.loadedAt = Date.now();
    this.secrets ??= this.options.secrets().catch((err: unknown) => {
      this.secrets = undefined;
      throw err;
    });
    return this.secrets;
  }
}

/**
 * A link's request target at the gateway, as `sign` writes it: the key as is, then `exp` and `sig` in that
 * order and nothing else. A server decodes percent-escapes and reads the query in any order, so the gateway
 * compares the target as sent with this before it checks the signature; a link then has one spelling.
 */
export function linkTarget(key: string, exp: number | string, sig: string): string {
  return `/${key}?exp=${exp}&sig=${sig}`;
}

function mac(secret: string, key: string, exp: number): string {
  return createHmac('sha256', secret).update(`${key}\n${exp}`).digest('base64url');
}

/**
 * The signing secrets: CROP_URL_SECRET (and CROP_URL_SECRET_PREVIOUS) when configured. Otherwise one made
 * at random by the first process to start and kept in Redis, so the gateway and every worker of the
 * deployment share it without setup; it cannot be rotated, so production should configure its own.
 */
export async function cropLinkSecrets(
  configured: { current?: string; previous?: string },
  redis: RedisClient,
  prefix: string,
): Promise<LinkSecrets> {
  if (configured.current)
    return configured.previous ? [configured.current, configured.previous] : [configured.current];
  const key = `${prefix}:crop-link-secret`;
  await redis.set(key, randomBytes(32).toString('base64url'), 'NX');
  const secret = await redis.get(key);
  if (!secret) throw new Error(`Redis lost ${key} as soon as it was set`);
  return [secret];
}
