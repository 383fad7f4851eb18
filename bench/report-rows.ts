import type { BatchFigures } from './batch-rounds.js';
import type { LoadResult } from './http-load.js';
import type { Results } from './report.js';
import type { BenchVideo } from './video-fixtures.js';

/** One line of the bench's table: what, how much, and against what. */
export type Row = [figure: string, value: string, comparison: string];

const ms = (v: number) => `${v.toFixed(1)} ms`;
const perS = (v: number) => `${v.toFixed(1)} img/s`;
const x = (v: number) => `${v.toFixed(2)}×`;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const lat = (r: LoadResult) =>
  `p50 ${r.latencyMs.p50.toFixed(0)} / p95 ${r.latencyMs.p95.toFixed(0)} / p99 ${r.latencyMs.p99.toFixed(0)} ms, ${perS(r.perSecond)}`;

/** Every row of the table, in the order BENCHMARKS.md shows them. */
export function rows(r: Results): Row[] {
  return [
    ...imageRows(r),
    ...cpuRows(r),
    ...batchRows(r),
    ...scalingRows(r),
    ...videoRows(r),
    ...memoryRows(r),
    ...autoRotateRows(r),
    ...hostileRows(r),
  ];
}

/** The model floor, the in-process pipeline, and /detect with each body form. */
function imageRows(r: Results): Row[] {
  const f = r.floor;
  const finest = f.passes[0]!;
  const sizes = f.passes.map((p) => `${p.width}×${p.height}`).join(', ');
  const out: Row[] = [
    [
      `Model floor, finest pass ${finest.width}×${finest.height} (tensor ${finest.paddedWidth}×${finest.paddedHeight})`,
      ms(finest.ms),
      `median of ${f.runs}`,
    ],
    [`Model floor, all ${f.passes.length} passes (${sizes})`, ms(f.allPassesMs), `median of ${f.runs}`],
  ];
  for (const [c, p] of Object.entries(r.pipeline)) {
    const c1 = c === '1';
    out.push([
      `In-process pipeline, concurrency ${c}`,
      c1 ? `${ms(p.latencyMs.p50)} per image, ${perS(p.perSecond)}` : perS(p.perSecond),
      c1
        ? `${x(p.latencyMs.p50 / f.allPassesMs)} the all-passes floor (target ≤ 1.3×)`
        : `${x(p.perSecond / ((1000 / f.allPassesMs) * r.settings.inferenceThreads))} the floor's rate on ${r.settings.inferenceThreads} threads`,
    ]);
  }
  for (const [label, results] of [
    ['base64', r.base64],
    ['URL', r.url],
    ['raw image/jpeg', r.raw ?? {}],
  ] as const) {
    for (const [c, e] of Object.entries(results)) {
      const p = r.pipeline[c]!;
      out.push([
        `POST /detect ${label}, concurrency ${c}`,
        lat(e),
        `${x(e.perSecond / p.perSecond)} in-process throughput${c === '1' ? '' : ' (target ≥ 0.85×)'}`,
      ]);
    }
  }
  return out;
}

/** CPU per image at the highest concurrency: in process, the phone photo, and /detect by process. */
function cpuRows(r: Results): Row[] {
  const top = String(Math.max(...Object.keys(r.pipeline).map(Number)));
  const cpuTotal = (k: string) => Object.values(r.cpuPerImage[k]?.[top] ?? {}).reduce((a, b) => a + b, 0);
  const out: Row[] = [
    [
      `CPU per image, in-process, concurrency ${top}`,
      `${cpuTotal('pipeline').toFixed(0)} ms`,
      `${x(cpuTotal('pipeline') / r.floor.allPassesMs)} the all-passes floor (target ≤ 1.4×)`,
    ],
  ];
  if (r.phone) {
    out.push([
      'CPU per image, in-process, a 4032×3024 phone JPEG',
      `${r.phone.phoneMs.toFixed(0)} ms`,
      `${x(r.phone.phoneMs / r.phone.photoMs)} the ${r.settings.imageWidth}×${r.settings.imageHeight} photo (target ≤ 1.5×)`,
    ]);
  }
  for (const [label, k] of [
    ['base64', 'base64'],
    ['URL', 'url'],
    ['raw image/jpeg', 'raw'],
  ] as const) {
    if (!r.cpuPerImage[k]) continue;
    const parts = Object.entries(r.cpuPerImage[k]?.[top] ?? {})
      .map(([name, v]) => `${name} ${v.toFixed(0)}`)
      .join(', ');
    out.push([
      `CPU per image, POST /detect ${label}, concurrency ${top}`,
      `${cpuTotal(k).toFixed(0)} ms (${parts})`,
      `${x(cpuTotal(k) / cpuTotal('pipeline'))} in-process`,
    ]);
  }
  return out;
}

/** One batch of 16 photos against the same 16 as concurrent calls: wall time and CPU per image. */
function batchRows(r: Results): Row[] {
  const b = r.batch;
  if (!b) return [];
  const cpu = (side: BatchFigures['batch']) => Object.values(side.cpuPerImage).reduce((a, v) => a + v, 0);
  const parts = (side: BatchFigures['batch']) =>
    Object.entries(side.cpuPerImage)
      .map(([name, v]) => `${name} ${v.toFixed(1)}`)
      .join(', ');
  const n = b.images;
  const mix = `${b.photos.length} photos × ${n / b.photos.length} (${b.photos.join(', ')})`;
  return [
    [
      `${n} photos as ${n} concurrent POST /detect (base64): wall time for the ${n}`,
      ms(b.separate.wallMs),
      `mean of ${b.rounds} rounds, load ${b.loadAverage.toFixed(2)}; ${mix}`,
    ],
    [
      `${n} photos as one POST /detect/batch (base64): wall time for the ${n}`,
      ms(b.batch.wallMs),
      `${x(b.batch.wallMs / b.separate.wallMs)} the ${n} calls (the two orders alternating)`,
    ],
    [
      `CPU per image, ${n} concurrent POST /detect`,
      `${cpu(b.separate).toFixed(1)} ms (${parts(b.separate)})`,
      '',
    ],
    [
      `CPU per image, one POST /detect/batch of ${n}`,
      `${cpu(b.batch).toFixed(1)} ms (${parts(b.batch)})`,
      `${x(cpu(b.batch) / cpu(b.separate))} the ${n} calls`,
    ],
  ];
}

function scalingRows(r: Results): Row[] {
  return [
    ['1 worker process × 1 inference thread, concurrency 8', perS(r.scaling.oneWorker.perSecond), ''],
    [
      '2 worker processes × 1 inference thread, concurrency 8',
      perS(r.scaling.twoWorkers.perSecond),
      `${x(r.scaling.ratio)} one worker`,
    ],
  ];
}

function videoRows(r: Results): Row[] {
  const v = r.video;
  if (!v) return [];
  const out: Row[] = [];
  const long = `${Math.round(v.tenMinutes.seconds / 60)}-min 1080p`;
  if (v.longHundred) {
    const s = v.longHundred.seconds;
    out.push([`Video ${long}, num_frames=100`, `${s.toFixed(1)} s, ${(100 / s).toFixed(1)} frames/s`, '']);
  }
  const read = (bytes: number, of: BenchVideo) =>
    `${mib(bytes)} of ${mib(of.bytes)} read (${pct(bytes / of.bytes)})`;
  out.push(
    [
      `Video ${long}, num_frames=5, read by range`,
      `${v.longFive.seconds.toFixed(2)} s, ${read(v.longReadBytes, v.tenMinutes)}`,
      `${x(v.longFive.seconds / v.shortFive.seconds)} the 10-s video`,
    ],
    [`Video 10-s 1080p, num_frames=5`, `${v.shortFive.seconds.toFixed(2)} s`, ''],
    [
      `Video 1-hour 640×360, index at the end, num_frames=5, read by range`,
      `${v.hourFive.seconds.toFixed(2)} s, ${read(v.hourReadBytes, v.anHourSd)}`,
      `${x(v.hourFive.seconds / v.sdShortFive.seconds)} the 10-s 640×360 video (target ≤ 1.5×, ≤ 10 % read)`,
    ],
    [`Video 10-s 640×360, num_frames=5`, `${v.sdShortFive.seconds.toFixed(2)} s`, ''],
  );
  const o = v.overhead;
  out.push([
    `Video download + packet timeline, 10-min (${mib(v.tenMinutes.bytes)}) / 10-s (${mib(v.tenSeconds.bytes)})`,
    `${o.long.downloadS.toFixed(2)} + ${o.long.timelineS.toFixed(2)} s / ${o.short.downloadS.toFixed(2)} + ${o.short.timelineS.toFixed(2)} s`,
    'what an origin without Range support costs; ranged reads skip both',
  ]);
  if (v.naive && v.longHundred) {
    out.push([
      `Naive: decode all ${long}, keep every ${v.naive.every}th frame (no detection)`,
      `${v.naive.seconds.toFixed(1)} s`,
      `service ${x(v.naive.seconds / v.longHundred.seconds)} faster`,
    ]);
  }
  return out;
}

function memoryRows(r: Results): Row[] {
  return [
    [
      `Peak RSS, worker (${r.settings.inferenceThreads} inference threads)`,
      `${r.memory.workerMiB.toFixed(0)} MiB`,
      'VmHWM',
    ],
    [
      'Peak RSS, worker (1 inference thread)',
      r.memory.oneThreadWorkersMiB.map((m) => `${m.toFixed(0)} MiB`).join(', '),
      'VmHWM',
    ],
    ['Peak RSS, gateway', `${r.memory.gatewayMiB.toFixed(0)} MiB`, 'VmHWM'],
  ];
}

function autoRotateRows(r: Results): Row[] {
  const a = r.autoRotate;
  if (!a) return [];
  return (
    [
      [`the bench's photo, upright, a face`, a.upright, 'target ≤ 1.1×'],
      ['a photo with no face (1920×1080)', a.noFace, 'target ≤ 2.5×'],
      [`the bench's photo turned 90°, no EXIF`, a.turned90, 'printed, no target'],
    ] as const
  ).map(([label, cost, target]): Row => [
    `auto_rotate CPU per image, ${label}`,
    `${cost.onMs.toFixed(0)} ms on, ${cost.offMs.toFixed(0)} ms off; faces ${cost.facesOn} on, ${cost.facesOff} off`,
    `${x(cost.ratio)} off (${target})`,
  ]);
}

function hostileRows(r: Results): Row[] {
  return r.hostile.map((h): Row => [
    `Hostile ${h.name}: slowest /healthz, gateway / worker`,
    `${h.gatewayHealthMs.toFixed(0)} / ${h.workerHealthMs.toFixed(0)} ms`,
    `answered ${h.status} in ${h.seconds.toFixed(2)} s (target ≤ 100 ms)`,
  ]);
}
