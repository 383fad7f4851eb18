import { Router, type Response } from 'express';
import type { ErrorAnswer } from '../../shared/contract/api-contract.js';
import type { LocalCropStorage } from '../../shared/storage/local-crop-storage.repository.js';

const NOT_FOUND: ErrorAnswer = { error_code: 1, error_msg: 'Crop not found or expired', faces_obj: {} };

function notFound(res: Response): void {
  res.status(404).json(NOT_FOUND);
}

/**
 * Serves crops kept on local disk at the URLs LocalCropStorage hands out. Mount it only when crops
 * are stored locally; with S3 the URLs point at the store itself.
 */
export function createCropsRouter(storage: LocalCropStorage): Router {
  const router = Router();
  router.get('/crops{/*path}', async (req, res, next) => {
    const segments = req.params.path;
    const crop = segments === undefined ? undefined : await storage.resolve(segments.join('/'));
    if (crop === undefined) {
      notFound(res);
      return;
    }
    res.sendFile(
      crop.file,
      {
        // The key pattern already rules out hidden names, and a data dir below a hidden folder is fine.
        dotfiles: 'allow',
        cacheControl: false,
        // Handed over only once the file is being sent, so a 404 after a lost race stays plain JSON.
        headers: {
          'Content-Type': 'image/jpeg',
          'Cache-Control': `private, max-age=${crop.remainingS}`,
          'X-Content-Type-Options': 'nosniff',
        },
      },
      (err?: Error) => {
        if (err === undefined) return;
        // The sweep may delete the file between resolve and send.
        if (!res.headersSent) notFound(res);
        else next(err);
      },
    );
  });
  return router;
}
