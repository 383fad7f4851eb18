import type { Request, Response } from 'express';
import type { JobStatusService } from '../services/job-status.service.js';
import { absolutizeFaceUrls, absolutizeTrackUrls } from '../../shared/contract/absolute-face-urls.js';
import type { PublicBase } from './public-url.js';

export class JobsController {
  constructor(
    private readonly service: JobStatusService,
    private readonly publicBase: PublicBase,
  ) {}

  get = async (req: Request<{ id: string }>, res: Response): Promise<void> => {
    const answer = await this.service.status(req.params.id, req.owner);
    if (answer.result) {
      const base = this.publicBase(req);
      answer.result.faces_obj = absolutizeFaceUrls(answer.result.faces_obj, base);
      answer.result.tracks = absolutizeTrackUrls(answer.result.tracks, base);
    }
    res.json(answer);
  };
}
