import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config/config.js';
import { resolveFfmpegBinaries } from '../worker/video/ffmpeg-binaries.js';
import type { LoadOptions } from './http-load.js';
import type { BenchServiceOptions } from './service.js';

/** The bench's inputs, settings and flags, shared by its phases. */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(process.env.SHARED_DIR ?? path.join(ROOT, '../shared'));
export const IMAGE = path.join(SHARED, 'fixtures/images/obama-1080p.jpg');
export const CLIP = path.join(SHARED, 'fixtures/video/short_hamilton_clip.mp4');
/** The portrait whose lower part (suit, flag, no face) is the bench's photo without a face. */
export const PORTRAIT = path.join(SHARED, 'fixtures/images/obama.jpg');
/** The photos of the batch row: 0.7 to 2.1 megapixels, landscape and portrait, JPEG fixtures. */
export const BATCH_PHOTOS = [
  IMAGE,
  PORTRAIT,
  ...['biden.jpg', 'two_people.jpg'].map((name) => path.join(SHARED, 'fixtures/images', name)),
];
export const CACHE = path.join(ROOT, 'bench/.cache');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CONCURRENCIES = [1, 8];

export const args = new Set(process.argv.slice(2));
/** Short runs, for development; BENCHMARKS.md is left alone. */
export const quick = args.has('--quick');

/** Measurements of a kind are split into rounds taken in turns with the others they are compared with. */
export const ROUNDS = quick ? 1 : 3;
export const bounds = (concurrency: number, round: number): LoadOptions => ({
  concurrency,
  maxRequests: quick ? 10 * concurrency : concurrency === 1 ? 15 : 60,
  maxSeconds: quick ? 4 : concurrency === 1 ? 4 : 5,
  warmupPerClient: round === 0 ? 1 : 0,
});

export const config = loadConfig({ MODELS_DIR: path.join(ROOT, 'models'), LOG_LEVEL: 'silent' });
export const binaries = resolveFfmpegBinaries({ searchPath: process.env.PATH });

export function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** A service of its own for each run: a fresh queue prefix and data folder. */
export function serviceOptions(nodeArgs?: string[]): BenchServiceOptions {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  return {
    root: ROOT,
    logDir: path.join(CACHE, 'logs'),
    redisUrl: REDIS_URL,
    prefix,
    dataDir: path.join(os.tmpdir(), `facedetect-${prefix}`),
    nodeArgs,
  };
}
