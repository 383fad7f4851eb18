import type { Request, Response } from 'express';
import type { DetectService } from '../services/detect.service.js';
import { parseDetectRequest } from '../validation/detect-request.schema.js';

export class DetectController {
  constructor(
    private readonly service: DetectService,
    private readonly publicBaseUrl: string | undefined,
  ) {}

  detect = async (req: Request, res: Response): Promise<void> => {
    const request = parseDetectRequest(req.body ?? {});
    const base = this.publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const answer = await this.service.detect(request, req.id, (id) => `${base}/jobs/${id}`);
    res.status(answer.status).json(answer.body);
  };
}
