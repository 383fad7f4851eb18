import { randomUUID } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import type { Readable } from 'node:stream';
import { access, constants, mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { CROP_KEY_PATTERN, cropKey, type Crop, type CropStorage } from './crop-storage.js';
import { mapBounded, reasonOf } from './storage-utils.js';

const DAY_MS = 86_400_000;

export interface LocalCropStorageOptions {
  /** Crops live under `<dataDir>/crops`. With separate gateway and workers it must be a shared volume. @defaultValue `./data` */
  dataDir?: string;
  /** How long a crop is served after it was written, in seconds; older files are deleted. @defaultValue 604800 (7 days) */
  urlTtlS?: number;
  /** Files written at once per `putCrops` call. @defaultValue 4 */
  uploadConcurrency?: number;
  /** How often `init()` schedules `sweepExpired()`. @defaultValue 600000 (10 minutes) */
  sweepIntervalMs?: number;
  /** Receives the outcome of scheduled sweeps, which no caller awaits. */
  logger: Logger;
}

/** Crops on local disk, served by the gateway's crops router until they expire. */
export class LocalCropStorage implements CropStorage {
  private readonly dataDir: string;
  private readonly cropsDir: string;
  private readonly ttlMs: number;
  private readonly uploadConcurrency: number;
  private readonly sweepIntervalMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(options: LocalCropStorageOptions) {
    const ttlS = options.urlTtlS ?? 604_800;
    this.dataDir = path.resolve(options.dataDir ?? 'data');
    this.cropsDir = path.join(this.dataDir, 'crops');
    this.ttlMs = ttlS * 1000;
    this.uploadConcurrency = options.uploadConcurrency ?? 4;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 600_000;
    this.logger = options.logger;
    if (!Number.isInteger(ttlS) || ttlS < 1) {
      throw new RangeError('Local crop storage: urlTtlS must be a positive integer');
    }
    if (!Number.isInteger(this.uploadConcurrency) || this.uploadConcurrency < 1) {
      throw new RangeError('Local crop storage: uploadConcurrency must be a positive integer');
    }
  }

  async init(): Promise<void> {
    try {
      await mkdir(this.cropsDir, { recursive: true });
    } catch (err) {
      throw new StorageError(`could not create crop directory ${this.cropsDir}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
    await this.check();
    this.timer ??= setInterval(() => void this.sweepAndLog(), this.sweepIntervalMs).unref();
  }

  async putCrops(jobId: string, crops: Crop[]): Promise<string[]> {
    const now = new Date();
    const keys = crops.map((c) => cropKey(now, jobId, c.frame, c.face));
    if (keys[0] === undefined) return [];
    const jobDir = path.dirname(path.join(this.dataDir, keys[0]));
    try {
      await mkdir(jobDir, { recursive: true });
    } catch (err) {
      throw new StorageError(`could not create ${path.dirname(keys[0])}: ${reasonOf(err)}`, { cause: err });
    }
    return mapBounded(crops, this.uploadConcurrency, async (crop, i) => {
      const key = keys[i] as string;
      const file = path.join(this.dataDir, key);
      // Written aside and renamed, so the gateway never serves a half-written JPEG.
      const tmp = `${file}.${randomUUID()}.tmp`;
      try {
        await writeFile(tmp, crop.jpeg, { flag: 'wx' });
        await rename(tmp, file);
      } catch (err) {
        // Best effort: a leftover is deleted by the sweep once it is older than the TTL.
        await rm(tmp, { force: true }).catch(() => undefined);
        throw new StorageError(`could not write ${key}: ${reasonOf(err)}`, { cause: err });
      }
      return key;
    });
  }

  async check(): Promise<void> {
    try {
      if (!(await stat(this.cropsDir)).isDirectory()) throw new Error('not a directory');
      await access(this.cropsDir, constants.W_OK);
    } catch (err) {
      throw new StorageError(`crop directory ${this.cropsDir} is not writable: ${reasonOf(err)}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // Let a running sweep finish rather than delete files after close; whoever started it saw its error.
    await this.sweeping?.catch(() => undefined);
  }

  /**
   * The crop behind a key, or undefined when the key is not one this storage makes, the file is missing,
   * or it has expired. Checking the whole key against the pattern before touching the disk is what rules
   * out traversal: the pattern cannot spell `..`.
   */
  async read(key: string): Promise<Readable | undefined> {
    if (!CROP_KEY_PATTERN.test(key)) return undefined;
    const file = path.join(this.dataDir, key);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || info.mtimeMs + this.ttlMs <= Date.now()) return undefined;
    return createReadStream(file);
  }

  /**
   * Deletes every file written longer than the TTL ago, and the folders that leaves empty. Answers how
   * many files it deleted; a call made while a sweep runs shares that sweep.
   */
  sweepExpired(): Promise<number> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<number> {
    const cutoff = Date.now() - this.ttlMs;
    // A day folder for today or yesterday may be about to receive a job folder (a write that began
    // just before midnight), so only older ones are removed when empty.
    const oldestLiveDay = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    let removed = 0;
    for (const day of await subdirectories(this.cropsDir)) {
      const dayDir = path.join(this.cropsDir, day);
      for (const job of await subdirectories(dayDir)) {
        const jobDir = path.join(dayDir, job);
        const names = (await entries(jobDir)).filter((e) => e.isFile()).map((e) => e.name);
        let left = names.length;
        for (const name of names) {
          const file = path.join(jobDir, name);
          const info = await stat(file).catch(ignoreMissing);
          if (info === undefined || info.mtimeMs <= cutoff) {
            await rm(file, { force: true });
            if (info !== undefined) removed++;
            left--;
          }
        }
        // Each putCrops call writes into a folder of its own, so one whose files all expired is done.
        if (left === 0 && (names.length > 0 || day < oldestLiveDay)) await rmdir(jobDir).catch(ignoreRace);
      }
      if (day < oldestLiveDay) await rmdir(dayDir).catch(ignoreRace);
    }
    return removed;
  }

  private async sweepAndLog(): Promise<void> {
    try {
      const removed = await this.sweepExpired();
      if (removed > 0) this.logger.info({ removed }, 'Removed expired crops');
    } catch (err) {
      this.logger.warn({ err }, 'Sweeping expired crops failed; will try again');
    }
  }
}

async function entries(dir: string): Promise<Dirent[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(ignoreMissing)) ?? [];
}

async function subdirectories(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Another process (gateway and workers all sweep) may have deleted it first. */
function ignoreMissing(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw err;
}

/** A folder that was deleted by another sweep, or filled again since it was listed, stays as it is. */
function ignoreRace(err: unknown): void {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return;
  throw err;
}
