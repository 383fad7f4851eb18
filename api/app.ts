import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from '../shared/logging/logger.js';
import type { GatewayMetrics } from '../shared/metrics/metrics.js';
import { NotFoundError } from '../shared/errors/errors.js';
import { DetectController } from './controllers/detect.controller.js';
import { JobsController } from './controllers/jobs.controller.js';
import { BatchController } from './controllers/batch.controller.js';
import type { BatchService } from './services/batch.service.js';
import { apiKeyAuth } from './middleware/auth.middleware.js';
import { errorHandler } from './middleware/error-handler.middleware.js';
import { rateLimit } from './middleware/rate-limit.middleware.js';
import { bodyBudget } from './middleware/body-budget.middleware.js';
import { detectBody } from './middleware/detect-body.middleware.js';
import { requestId } from './middleware/request-id.middleware.js';
import { createWebRouter } from './routes/web.router.js';
import type { DetectService } from './services/detect.service.js';
import type { CropStorage } from '../shared/storage/crop-storage.js';
import type { CropLinkSigner } from '../shared/storage/crop-link-signer.js';
import { createCropsRouter } from './routes/crops.router.js';
import { runChecks, type ReadinessCheck } from './readiness.js';
import type { PublicBase } from './controllers/public-url.js';
import type { JobStatusService } from './services/job-status.service.js';
import type { RateLimitRepository } from './repositories/rate-limit.repository.js';

export interface AppDeps {
  log: Logger;
  apiKeys: string[] | undefined;
  maxBodyBytes: number;
  /** The largest image accepted, however it is sent (MAX_IMAGE_BYTES). */
  maxImageBytes: number;
  /** Bodies received at once over all connections (MAX_INFLIGHT_BODY_BYTES). */
  maxInFlightBodyBytes: number;
  /** Where the absolute URLs of answers point. */
  publicBase: PublicBase;
  /** Express's `trust proxy` (TRUST_PROXY): whose X-Forwarded-* headers are believed. */
  trustProxy: string | number | boolean | undefined;
  detect: DetectService;
  batch: BatchService;
  /** Items in one batch (MAX_BATCH_ITEMS). */
  maxBatchItems: number;
  jobs: JobStatusService;
  /** Counts requests per client for POST /detect and GET /jobs/:id. */
  rateLimiter: RateLimitRepository;
  metrics: GatewayMetrics;
  /** Where crops are read from, behind their signed links. */
  crops: Pick<CropStorage, 'read'>;
  /** Checks crop links' signatures and expiry. */
  cropLinks: Pick<CropLinkSigner, 'check'>;
  /** Checks behind GET /readyz, each by name. */
  readiness: Record<string, ReadinessCheck>;
}

const DETECT_PATHS = ['/detect', '/interface/detect-api/detect_faces'];
const BATCH_PATHS = ['/detect/batch', '/interface/detect-api/detect_faces_batch'];

/** Wires routes to controllers. Logic lives in services; errors become the answer contract in one place. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(requestId());
  app.use(accessLog(deps.log, deps.metrics));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await runChecks(deps.readiness);
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  const auth: RequestHandler = deps.apiKeys ? apiKeyAuth(deps.apiKeys) : (_req, _res, next) => next();
  const limit = rateLimit(deps.rateLimiter, deps.log);
  // The limit comes before the body is read, so a client over its budget costs no JSON parsing.
  const json = express.json({ limit: deps.maxBodyBytes, type: () => true });
  const body = detectBody({ maxImageBytes: deps.maxImageBytes, maxBodyBytes: deps.maxBodyBytes }, json);
  const batchBody = detectBody(
    {
      maxImageBytes: deps.maxImageBytes,
      maxBodyBytes: deps.maxBodyBytes,
      batchItems: deps.maxBatchItems,
    },
    json,
  );
  const detect = new DetectController(deps.detect, deps.publicBase);
  const jobs = new JobsController(deps.jobs, deps.publicBase);
  const batch = new BatchController(deps.batch, deps.rateLimiter, deps.publicBase, deps.maxBatchItems);
  const budget = bodyBudget(deps.maxInFlightBodyBytes, deps.maxBodyBytes);
  // Authentication and the rate limit come before the body is read, and so does the room for it.
  for (const path of DETECT_PATHS) app.post(path, auth, limit, budget, body, detect.detect);
  for (const path of BATCH_PATHS) app.post(path, auth, limit, budget, batchBody, batch.submit);
  // A batch id is read by the batch controller; any other passes on to the jobs controller.
  app.get('/jobs/:id', auth, limit, batch.get, jobs.get);
  app.use(createCropsRouter(deps.crops, deps.cropLinks));
  app.use(createWebRouter());

  app.use((req, _res, next) =>
    next(new NotFoundError(`No route for ${req.method} ${req.path}; see GET /docs`)),
  );
  app.use(errorHandler(deps.log, deps.maxBodyBytes));
  return app;
}

/** One log line and the HTTP metrics per request; the route label is the matched pattern, never the URL. */
function accessLog(log: Logger, metrics: GatewayMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const matched = req.route as { path: string } | undefined;
      const route = matched ? `${req.baseUrl}${matched.path}` : 'unmatched';
      const labels = { route, method: req.method, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      log.info(
        {
          requestId: req.id,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
        },
        'request',
      );
    });
    next();
  };
}
