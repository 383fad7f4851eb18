import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../../shared/errors/errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** SHA-256 (hex) of the API key the request was accepted with: who it counts against. */
    apiKeyDigest?: string;
    /** Who owns what this request creates, and may read it back (`ownerOf` the key). */
    owner?: string;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * The owner id of the jobs a key submits: an HMAC keyed by the key itself, so it names the key without
 * revealing it, and a reader of Redis can neither recover the key nor forge another key's id.
 */
function ownerOf(key: string): string {
  return createHmac('sha256', key).update('facedetect job owner').digest('base64url').slice(0, 22);
}

/**
 * API-key check. A key comes in `Authorization` (`Bearer <key>` or the bare key) or in `x-api-key`; when
 * both are sent, `Authorization` alone counts, even if only `x-api-key` is valid. Keys are compared as
 * SHA-256 digests in constant time, so response timing reveals nothing about them.
 */
export function apiKeyAuth(keys: readonly string[]): RequestHandler {
  const accepted = keys.map(digest);
  return (req, _res, next) => {
    const authorization = req.get('authorization');
    const presented =
      authorization !== undefined
        ? authorization.replace(/^Bearer\s+/i, '').trim()
        : req.get('x-api-key')?.trim();
    if (!presented) {
      next(
        new UnauthorizedError(
          "Missing API key: send it as 'Authorization: Bearer <key>' or in the 'x-api-key' header",
        ),
      );
      return;
    }
    const d = digest(presented);
    if (!accepted.some((k) => timingSafeEqual(k, d))) {
      next(new UnauthorizedError('Invalid API key: check the key you send in Authorization or x-api-key'));
      return;
    }
    req.apiKeyDigest = d.toString('hex');
    req.owner = ownerOf(presented);
    next();
  };
}
