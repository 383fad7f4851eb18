import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config/config.js';
import { createLogger } from '../shared/logging/logger.js';
import { isEntryPoint, runMain } from '../shared/process/run-main.js';
import { start as startApi } from '../api/main.js';
import { NotReadyError } from '../api/readiness.js';
import { WorkerSupervisor } from './worker-supervisor.js';

export interface StandaloneStartOptions {
  /** The environment both processes read their configuration from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const WORKER_ENTRY = fileURLToPath(new URL('../worker/main.js', import.meta.url));

/**
 * Gateway and worker on one machine (`npm start`), no setup beyond Redis. The worker runs as a supervised
 * child process: whatever kills it (a decoder crash, memory) leaves the gateway serving, and /readyz says
 * the worker is down until its restart is ready.
 */
export async function start(options: StandaloneStartOptions = {}) {
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  const log = createLogger(config.logLevel, 'facedetect');
  const worker = new WorkerSupervisor({
    entry: WORKER_ENTRY,
    env,
    log: log.child({ component: 'supervisor' }),
  });
  await worker.start();
  // Ready while the child runs with its model loaded in its inference threads.
  const workerCheck = () => {
    const state = worker.state;
    return state.up
      ? Promise.resolve({ count: state.threads })
      : Promise.reject(new NotReadyError(`The worker is down: ${state.reason}; it is being restarted`, 0));
  };
  const api = await startApi({
    config,
    log: log.child({ component: 'api' }),
    readiness: { worker: workerCheck },
  }).catch(async (err: unknown) => {
    await worker.stop();
    throw err;
  });
  return {
    log,
    api,
    worker,
    async stop() {
      worker.expectExit();
      await api.stop();
      await worker.stop();
    },
  };
}

if (isEntryPoint(import.meta.url)) runMain('facedetect', start);
