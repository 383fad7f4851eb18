import type { Request, Response } from 'express';
import type { JobStatusService } from '../services/job-status.service.js';

export class JobsController {
  constructor(private readonly service: JobStatusService) {}

  get = async (req: Request<{ id: string }>, res: Response): Promise<void> => {
    res.json(await this.service.status(req.params.id));
  };
}
