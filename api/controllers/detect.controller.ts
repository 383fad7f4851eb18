import type { Request, Response } from 'express';
import type { DetectService } from '../services/detect.service.js';
import { parseDetectRequest } from '../validation/detect-request.schema.js';
import { parseUploadRequest } from '../validation/upload-options.js';
import { absolutizeLinks } from '../../shared/contract/absolute-face-urls.js';
import type { PublicBase } from './public-url.js';

export class DetectController {
  constructor(
    private readonly service: DetectService,
    private readonly publicBase: PublicBase,
  ) {}

  detect = async (req: Request, res: Response): Promise<void> => {
    const request = req.upload
      ? parseUploadRequest(req.upload.fields, req.upload.image)
      : parseDetectRequest(req.body ?? {});
    const base = this.publicBase(req);
    const answer = await this.service.detect(request, {
      requestId: req.id,
      owner: req.owner,
      publicBase: base,
    });
    if (answer.status === 200) {
      Object.assign(answer.body, absolutizeLinks(answer.body, base));
    }
    res.status(answer.status).json(answer.body);
  };
}
