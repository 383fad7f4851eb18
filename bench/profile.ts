import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../shared/config/config.js';
import { threadCpuMs } from './cpu.js';
import { serveFiles } from './file-server.js';
import { detectSender, pool, runLoad, type LoadOptions } from './http-load.js';
import { InProcessPipeline } from './inprocess.js';
import { formatSummary, summarizeDir } from './profile-summary.js';
import { BenchService, type BenchServiceOptions } from './service.js';

/** What `npm run bench -- --profile` needs of the bench's setup. */
export interface ProfileContext {
  /** The bench's photo. */
  image: string;
  /** Where the profiles are written, one folder per process group. */
  dir: string;
  config: Config;
  serviceOptions: (nodeArgs: string[]) => BenchServiceOptions;
  log: (message: string) => void;
  /** The bench script, run again with --profile-target as the profiled in-process child. */
  script: string;
}

const profileLoad: LoadOptions = { concurrency: 8, maxRequests: 200, maxSeconds: 12, warmupPerClient: 1 };

/**
 * Profiles what the figures measure: gateway and worker processes under the concurrency-8 load of each
 * body form (base64, URL, raw bytes), each form with processes of its own, then the in-process pipeline
 * alone (this script again, as a child under --cpu-prof).
 */
export async function profileService(ctx: ProfileContext): Promise<void> {
  const { dir, config, log } = ctx;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const bytes = await readFile(ctx.image);
  const files = await serveFiles({ 'obama-1080p.jpg': ctx.image });
  const forms: [string, string | Buffer, string?][] = [
    ['base64', JSON.stringify({ img: bytes.toString('base64') })],
    ['url', JSON.stringify({ url: files.url('obama-1080p.jpg') })],
    ['raw', bytes, 'image/jpeg'],
  ];
  try {
    for (const [form, body, contentType] of forms) {
      const service = await BenchService.start(
        ctx.serviceOptions(['--cpu-prof', `--cpu-prof-dir=${path.join(dir, `service-${form}`)}`]),
      );
      try {
        await service.startWorker('worker', {
          inferenceThreads: config.detector.inferenceThreads,
          imageConcurrency: 8,
        });
        log(`profiling gateway and worker under POST /detect ${form}, concurrency 8`);
        const send = detectSender(`${service.url}/detect`, body, () => {}, contentType);
        log(`${pool([await runLoad(profileLoad, send)]).perSecond.toFixed(1)} img/s`);
      } finally {
        await service.stop();
      }
    }
  } finally {
    await files.close();
  }
  log('profiling the in-process pipeline, concurrency 8');
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'inprocess')}`, ctx.script, '--profile-target'],
    { stdio: 'inherit' },
  );
  await new Promise((resolve) => child.once('exit', resolve));
  for (const sub of [...forms.map(([form]) => `service-${form}`), 'inprocess']) {
    for (const summary of await summarizeDir(path.join(dir, sub)))
      console.log(`\n[${sub}] ${formatSummary(summary)}`);
  }
}

/** The in-process pipeline under load, run by `profileService` in a child with --cpu-prof. */
export async function profileInProcess(ctx: Pick<ProfileContext, 'image' | 'config' | 'log'>): Promise<void> {
  const { config, log } = ctx;
  const bytes = await readFile(ctx.image);
  const inProcess = await InProcessPipeline.start(config);
  const faces = (await inProcess.detector.detectEncoded(bytes, { autoRotate: config.detector.autoRotate }))
    .faces.length;
  const before = threadCpuMs();
  const r = pool([await inProcess.load(bytes, profileLoad, faces)]);
  const images = r.requests + profileLoad.concurrency * (profileLoad.warmupPerClient ?? 0);
  const perThread = [...threadCpuMs()]
    .map(([tid, ms]) => ({ tid, ms: (ms - (before.get(tid) ?? 0)) / images }))
    .filter((t) => t.ms >= 0.1)
    .sort((a, b) => b.ms - a.ms);
  log(`${r.perSecond.toFixed(1)} img/s`);
  // The busiest are the inference threads, then libuv's (sharp), then V8's helpers (GC).
  log(
    `CPU ms per image by thread: ${perThread.map((t) => `${t.tid === String(process.pid) ? 'main' : t.tid} ${t.ms.toFixed(1)}`).join(', ')}`,
  );
  await inProcess.close();
}
