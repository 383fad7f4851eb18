import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BatchSuccess } from '../shared/contract/api-contract.js';
import { measureCpu, type CpuTargets } from './cpu.js';
import { detectSender } from './http-load.js';
import type { InProcessPipeline } from './inprocess.js';
import { BATCH_PHOTOS, config, log, quick } from './setup.js';

/** Images per batch: MAX_BATCH_ITEMS's default, the most one call may carry. */
const ITEMS = 16;
/** Rounds of one batch and 16 calls each, the two orders alternating: even, so each comes first as often. */
const ROUNDS = quick ? 4 : 8;

/** One way of sending the 16 images: the mean wall time of a round, and CPU ms per image by process. */
interface BatchSide {
  wallMs: number;
  cpuPerImage: Record<string, number>;
}

export interface BatchFigures {
  images: number;
  /** The photos, in the order the items cycle through them. */
  photos: string[];
  rounds: number;
  /** The 1-minute load average as the rounds end, which they about fill. */
  loadAverage: number;
  /** One POST /detect/batch of the 16 as base64 `img` items. */
  batch: BatchSide;
  /** The same 16 as separate POST /detect, all sent at once. */
  separate: BatchSide;
}

export interface BatchRoundsInput {
  serviceUrl: string;
  /** For the faces each photo must come back with. */
  inProcess: InProcessPipeline;
  /** The processes an end-to-end request costs CPU in: worker, gateway, Redis and this client. */
  serviceCpu: CpuTargets;
}

/** What each side spent over the rounds. */
class BatchTally {
  private readonly spent = {
    batch: { ms: 0, cpu: {} as Record<string, number> },
    separate: { ms: 0, cpu: {} as Record<string, number> },
  };

  async measure(side: 'batch' | 'separate', targets: CpuTargets, work: () => Promise<unknown>) {
    const started = performance.now();
    const { cpuMs } = await measureCpu(targets, work);
    const s = this.spent[side];
    s.ms += performance.now() - started;
    for (const [name, ms] of Object.entries(cpuMs)) s.cpu[name] = (s.cpu[name] ?? 0) + ms;
  }

  side(side: 'batch' | 'separate'): BatchSide {
    const s = this.spent[side];
    const images = ITEMS * ROUNDS;
    const cpuPerImage = Object.fromEntries(Object.entries(s.cpu).map(([name, ms]) => [name, ms / images]));
    return { wallMs: s.ms / ROUNDS, cpuPerImage };
  }
}

/**
 * The same 16 photos as one batch and as 16 separate calls, in rounds that alternate which goes first,
 * so that drift (a neighbour's load, the heap growing) falls on both alike.
 *
 * The separate calls are all sent at once, each on its own kept-alive connection (warmed before the
 * rounds), because that is what the batch does: its gateway submits all 16 jobs together, so in both
 * cases the worker's queue holds the 16 jobs at once and its pool (IMAGE_CONCURRENCY) runs them the same
 * way. Calls one after another, or a closed loop of fewer clients, would leave the pool idle between
 * answers and measure the client's round trips rather than what one request in place of 16 saves.
 */
export async function measureBatchRounds(input: BatchRoundsInput): Promise<BatchFigures> {
  const photos = await Promise.all(BATCH_PHOTOS.map((file) => readFile(file)));
  const faces: number[] = [];
  for (const bytes of photos) {
    const found = await input.inProcess.detector.detectEncoded(bytes, {
      autoRotate: config.detector.autoRotate,
    });
    faces.push(found.faces.length);
  }
  const order = Array.from({ length: ITEMS }, (_, k) => k % photos.length);
  const imgs = order.map((p) => photos[p]!.toString('base64'));
  const { batch, separate } = senders(
    input.serviceUrl,
    imgs,
    order.map((p) => faces[p]!),
  );
  log(`batch of ${ITEMS} against ${ITEMS} concurrent calls: warm-up`);
  await batch();
  await separate();
  const tally = new BatchTally();
  for (let round = 0; round < ROUNDS; round++) {
    const batchFirst = round % 2 === 0;
    log(
      `batch of ${ITEMS}, round ${round + 1}/${ROUNDS}: ${batchFirst ? 'batch, then calls' : 'calls, then batch'}`,
    );
    const sides = batchFirst ? (['batch', 'separate'] as const) : (['separate', 'batch'] as const);
    for (const side of sides)
      await tally.measure(side, input.serviceCpu, side === 'batch' ? batch : separate);
  }
  return {
    images: ITEMS,
    photos: BATCH_PHOTOS.map((file) => path.basename(file)),
    rounds: ROUNDS,
    loadAverage: os.loadavg()[0]!,
    batch: tally.side('batch'),
    separate: tally.side('separate'),
  };
}

/** The batch call, and the 16 calls sent at once; each checks every image's faces against `faces`. */
function senders(serviceUrl: string, imgs: string[], faces: number[]) {
  const checkFaces = (k: number, found: number | undefined) => {
    if (found !== faces[k])
      throw new Error(`image ${k}: the service found ${found} faces, the in-process pipeline ${faces[k]}`);
  };
  const batchBody = JSON.stringify({ items: imgs.map((img) => ({ img })) });
  const batch = detectSender<BatchSuccess>(`${serviceUrl}/detect/batch`, batchBody, (answer) => {
    if (answer.items.length !== imgs.length)
      throw new Error(`the batch answered ${answer.items.length} items`);
    answer.items.forEach((item, k) => {
      if (item.status !== 200) throw new Error(`batch item ${k}: ${item.status} ${item.error_msg}`);
      checkFaces(k, item.faces_obj['0']?.region.length);
    });
  });
  const calls = imgs.map((img, k) =>
    detectSender(`${serviceUrl}/detect`, JSON.stringify({ img }), (answer) =>
      checkFaces(k, answer.faces_obj['0']?.region.length),
    ),
  );
  return { batch, separate: () => Promise.all(calls.map((send) => send())) };
}
