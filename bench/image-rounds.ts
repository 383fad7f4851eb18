import { measureCpu, type CpuTargets } from './cpu.js';
import { BODY_FORMS, type BodyForm } from './detect-requests.js';
import { pool, runLoad, type LoadResult, type LoadSample } from './http-load.js';
import type { InProcessPipeline, ModelFloorProbe } from './inprocess.js';
import { bounds, CONCURRENCIES, log, quick, ROUNDS } from './setup.js';

/** The in-process pipeline, then the service with each body form. */
const KINDS = ['pipeline', ...BODY_FORMS] as const;
type Kind = (typeof KINDS)[number];

export interface ImageRoundsInput {
  inProcess: InProcessPipeline;
  floorProbe: ModelFloorProbe;
  bytes: Buffer;
  faces: number;
  senders: Record<BodyForm, () => () => Promise<void>>;
  /** The processes an end-to-end request costs CPU in: worker, gateway, Redis and this client. */
  serviceCpu: CpuTargets;
}

export interface ImageFigures {
  /** Per kind, per concurrency: the pooled rounds. */
  load: Record<Kind, Record<string, LoadResult>>;
  /** Per kind, per concurrency: CPU ms per image by process. */
  cpuPerImage: Record<Kind, Record<string, Record<string, number>>>;
}

/** Per kind, per concurrency: the rounds' samples, and the CPU each process spent on them. */
class ImageTally {
  private readonly samples = new Map(KINDS.map((k) => [k, CONCURRENCIES.map((): LoadSample[] => [])]));
  private readonly cpu = new Map(
    KINDS.map((k) => [k, CONCURRENCIES.map((): Record<string, number> => ({}))]),
  );

  async measure(kind: Kind, i: number, targets: CpuTargets, work: () => Promise<LoadSample>): Promise<void> {
    const { value, cpuMs } = await measureCpu(targets, work);
    this.samples.get(kind)![i]!.push(value);
    const spent = this.cpu.get(kind)![i]!;
    for (const [name, ms] of Object.entries(cpuMs)) spent[name] = (spent[name] ?? 0) + ms;
  }

  figures(): ImageFigures {
    const byKind = <T>(of: (kind: Kind) => T) =>
      Object.fromEntries(KINDS.map((k) => [k, of(k)])) as Record<Kind, T>;
    return {
      load: byKind((k) => this.byConcurrency(k, (samples) => pool(samples))),
      cpuPerImage: byKind((k) =>
        this.byConcurrency(k, (samples, spent) => {
          const images = samples.reduce((n, s) => n + s.latencies.length, 0);
          return Object.fromEntries(Object.entries(spent).map(([name, ms]) => [name, ms / images]));
        }),
      ),
    };
  }

  private byConcurrency<T>(kind: Kind, of: (samples: LoadSample[], spent: Record<string, number>) => T) {
    return Object.fromEntries(
      CONCURRENCIES.map((c, i) => [String(c), of(this.samples.get(kind)![i]!, this.cpu.get(kind)![i]!)]),
    );
  }
}

/**
 * The photo at each concurrency, in rounds that take the model floor, the in-process pipeline and the
 * service with each body form in turns, so a neighbour's load falls on all of them alike.
 */
export async function measureImageRounds(input: ImageRoundsInput): Promise<ImageFigures> {
  const { inProcess, floorProbe, bytes, faces, senders, serviceCpu } = input;
  const tally = new ImageTally();
  for (const [i, c] of CONCURRENCIES.entries()) {
    for (let round = 0; round < ROUNDS; round++) {
      log(`concurrency ${c}, round ${round + 1}/${ROUNDS}: in-process, base64, url, raw`);
      if (c === 1) await floorProbe.measure(quick ? 10 : 20, quick ? 3 : 4);
      await tally.measure('pipeline', i, { 'in-process': 'self' }, () =>
        inProcess.load(bytes, bounds(c, round), faces),
      );
      for (const form of BODY_FORMS) {
        await tally.measure(form, i, serviceCpu, () => runLoad(bounds(c, round), senders[form]()));
      }
    }
  }
  return tally.figures();
}
