import { loadConfig, type Config } from '../shared/config/config.js';
import { createLogger } from '../shared/logging/logger.js';
import { createRegistry } from '../shared/metrics/metrics.js';
import { isEntryPoint, runMain } from '../shared/process/run-main.js';
import { start as startApi } from '../api/main.js';
import { NotReadyError } from '../api/readiness.js';
import { start as startWorker } from '../worker/main.js';

export interface StandaloneStartOptions {
  config?: Config;
}

/**
 * Gateway and worker in one process (`npm start`): one machine, no setup beyond Redis. Inference still runs
 * on worker threads, so HTTP stays responsive while images are processed.
 */
export async function start(options: StandaloneStartOptions = {}) {
  const config = options.config ?? loadConfig();
  const log = createLogger(config.logLevel, 'facedetect');
  const registry = createRegistry();
  const worker = await startWorker({ config, registry, log: log.child({ component: 'worker' }) });
  // Threads join the pool only once their session holds the model, and leave it when they die.
  const model = () =>
    worker.pool.size > 0
      ? Promise.resolve({ count: worker.pool.size })
      : Promise.reject(new NotReadyError('No inference thread has the model loaded', 0));
  const api = await startApi({
    config,
    registry,
    log: log.child({ component: 'api' }),
    readiness: { model },
  }).catch(async (err: unknown) => {
    await worker.stop();
    throw err;
  });
  return {
    log,
    api,
    worker,
    async stop() {
      await api.stop();
      await worker.stop();
    },
  };
}

if (isEntryPoint(import.meta.url)) runMain('facedetect', start);
