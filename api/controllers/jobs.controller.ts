import type { Request, Response } from 'express';
import type { JobStatusService } from '../services/job-status.service.js';
import { absolutizeLinks } from '../../shared/contract/absolute-face-urls.js';
import type { PublicBase } from './public-url.js';

export class JobsController {
  constructor(
    private readonly service: JobStatusService,
    private readonly publicBase: PublicBase,
  ) {}

  get = async (req: Request<{ id: string }>, res: Response): Promise<void> => {
    const answer = await this.service.status(req.params.id, req.owner);
    if (answer.result) {
      Object.assign(answer.result, absolutizeLinks(answer.result, this.publicBase(req)));
    }
    res.json(answer);
  };
}
