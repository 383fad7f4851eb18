import { loadConfig } from '../shared/config/config.js';
import { createLogger } from '../shared/logging/logger.js';
import { createRegistry } from '../shared/metrics/metrics.js';
import { isEntryPoint, runMain } from '../shared/process/run-main.js';
import { start as startApi } from '../api/main.js';
import { start as startWorker } from '../worker/main.js';

/**
 * Gateway and worker in one process (`npm start`): one machine, no setup beyond Redis. Inference still runs
 * on worker threads, so HTTP stays responsive while images are processed.
 */
export async function start() {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'facedetect');
  const registry = createRegistry();
  const worker = await startWorker({ config, registry, log: log.child({ component: 'worker' }) });
  const api = await startApi({ config, registry, log: log.child({ component: 'api' }) }).catch(
    async (err: unknown) => {
      await worker.stop();
      throw err;
    },
  );
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
