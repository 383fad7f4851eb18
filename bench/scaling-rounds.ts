import { pool, runLoad, type LoadResult, type LoadSample } from './http-load.js';
import type { BenchService } from './service.js';
import { bounds, log, quick } from './setup.js';

export interface ScalingFigures {
  scaling: { oneWorker: LoadResult; twoWorkers: LoadResult; ratio: number };
  /** Peak RSS of the first and the second one-thread worker. */
  oneThreadWorkersMiB: number[];
}

/**
 * Concurrency 8 against one worker process of one inference thread, then two, in turns; `send` is one
 * request of the photo. The first worker is left running; the service's stop ends it.
 */
export async function measureScaling(
  service: BenchService,
  send: () => Promise<void>,
): Promise<ScalingFigures> {
  log('scaling: 1 and 2 worker processes × 1 inference thread, in turns');
  const oneThread = { inferenceThreads: 1, imageConcurrency: 4 };
  const one: LoadSample[] = [];
  const two: LoadSample[] = [];
  const oneThreadWorkersMiB = [0, 0];
  const first = await service.startWorker('worker-1', oneThread);
  for (let round = 0; round < (quick ? 1 : 2); round++) {
    one.push(await runLoad({ ...bounds(8, round), warmupPerClient: 1 }, send));
    const second = await service.startWorker('worker-2', oneThread);
    two.push(await runLoad({ ...bounds(8, round), warmupPerClient: 1 }, send));
    oneThreadWorkersMiB[1] = Math.max(oneThreadWorkersMiB[1]!, second.peakRssMiB());
    await service.stopWorker('worker-2');
  }
  oneThreadWorkersMiB[0] = first.peakRssMiB();
  const oneWorker = pool(one);
  const twoWorkers = pool(two);
  return {
    scaling: { oneWorker, twoWorkers, ratio: twoWorkers.perSecond / oneWorker.perSecond },
    oneThreadWorkersMiB,
  };
}
