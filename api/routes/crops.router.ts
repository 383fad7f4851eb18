import { Router, type Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { ErrorAnswer } from '../../shared/contract/api-contract.js';
import type { CropStorage } from '../../shared/storage/crop-storage.js';
import { linkTarget, type CropLinkSigner } from '../../shared/storage/crop-link-signer.js';

const NOT_FOUND: ErrorAnswer = { error_code: 1, error_msg: 'Crop not found or expired', faces_obj: {} };
const FORBIDDEN: ErrorAnswer = {
  error_code: 1,
  error_msg:
    'This crop link is not signed, or its signature does not match; use a face_url exactly as returned',
  faces_obj: {},
};
const EXPIRED: ErrorAnswer = {
  error_code: 1,
  error_msg: 'This crop link has expired (CROP_URL_TTL_S); ask for the faces again',
  faces_obj: {},
};

function refuse(res: Response, status: number, answer: ErrorAnswer): void {
  res.status(status).json(answer);
}

/**
 * Serves crops at the signed links the workers hand out, from local disk or S3 alike: the link's
 * signature and expiry are checked before the store is touched, so a bare or guessed path reads nothing.
 */
export function createCropsRouter(
  storage: Pick<CropStorage, 'read'>,
  links: Pick<CropLinkSigner, 'check'>,
): Router {
  const router = Router();
  router.get('/crops{/*path}', async (req, res) => {
    const segments = req.params.path;
    const key = `crops/${(segments ?? []).join('/')}`;
    const { exp, sig } = req.query;
    // Express hands over the path and query decoded: the target as sent must be the one the link was signed as.
    if (typeof exp !== 'string' || typeof sig !== 'string' || req.url !== linkTarget(key, exp, sig))
      return refuse(res, 403, FORBIDDEN);
    const verdict = await links.check(key, exp, sig);
    if (verdict === 'invalid') return refuse(res, 403, FORBIDDEN);
    if (verdict === 'expired') return refuse(res, 403, EXPIRED);
    const crop = await storage.read(key);
    if (!crop) return refuse(res, 404, NOT_FOUND);
    const remainingS = Math.max(0, Number(exp) - Math.floor(Date.now() / 1000));
    res.set({
      'Content-Type': 'image/jpeg',
      'Cache-Control': `private, max-age=${remainingS}`,
      'X-Content-Type-Options': 'nosniff',
    });
    // A store that fails mid-stream can only cut the answer short; the client sees a broken image.
    await pipeline(crop, res).catch(() => res.destroy());
  });
  return router;
}
