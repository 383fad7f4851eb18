import type { NextFunction, Request, Response } from 'express';
import { parseBatchId } from '../../shared/queue/job-id.js';
import { chargeMore } from '../middleware/rate-limit.middleware.js';
import type { RateLimitRepository } from '../repositories/rate-limit.repository.js';
import type { BatchService } from '../services/batch.service.js';
import { parseBatchRequest, parseBatchUpload } from '../validation/batch-request.schema.js';
import type { PublicBase } from './public-url.js';

/**
 * POST /detect/batch, as JSON or as a multipart form of file parts: the rate limit counted one unit before
 * the body; the rest are counted here, once their number is known.
 */
export class BatchController {
  constructor(
    private readonly service: BatchService,
    private readonly limiter: RateLimitRepository,
    private readonly publicBase: PublicBase,
    private readonly maxItems: number,
  ) {}

  submit = async (req: Request, res: Response): Promise<void> => {
    const batch = req.batchUpload
      ? parseBatchUpload(req.batchUpload.fields, req.batchUpload.parts)
      : parseBatchRequest(req.body ?? {}, this.maxItems);
    await chargeMore(this.limiter, req, batch.items.length - 1);
    const answer = await this.service.submit(batch, {
      requestId: req.id,
      owner: req.owner,
      publicBase: this.publicBase(req),
    });
    res.status(answer.status).json(answer.body);
  };

  /** GET /jobs/:id for a batch id; other ids pass on to the jobs controller. */
  get = async (req: Request<{ id: string }>, res: Response, next: NextFunction): Promise<void> => {
    if (!parseBatchId(req.params.id)) return next();
    res.json(await this.service.status(req.params.id, req.owner, this.publicBase(req)));
  };
}
