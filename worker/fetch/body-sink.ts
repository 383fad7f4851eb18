import type { FileHandle } from 'node:fs/promises';
import { open, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { sniffMedia, type SniffedMedia } from '../../shared/media/media-sniffer.js';

/** Bytes held back and sniffed before a body's fate is decided: enough to recognise any container. */
export const HEAD_BYTES = 4096;

/**
 * Where a body goes: memory, unless `toFile` says so once its head is sniffed, or it outgrows
 * `memoryBytes`; then `file()` names the file it is written to, so a video never sits in memory.
 */
export interface BodyTarget {
  memoryBytes: number;
  toFile(sniffed: SniffedMedia): boolean;
  file(): Promise<string>;
}

/** Everything in memory: the limit on the body bounds it. */
export const IN_MEMORY: BodyTarget = {
  memoryBytes: Infinity,
  toFile: () => false,
  file: () => Promise.reject(new Error('an in-memory body is never written to a file')),
};

/** Thrown through the body's pipeline to stop it at its head; never leaves the fetcher. */
export class StopAtHead extends Error {}

/** Where a body ended up, and what its head was. */
export type StoredBody = { sniffed: SniffedMedia; size: number } & (
  { bytes: Buffer; file?: undefined } | { file: string; bytes?: undefined }
);

/**
 * The end of a body's pipeline. Holds the first HEAD_BYTES (all of a shorter body), sniffs them once unless
 * the range probe's head was sniffed already, lets `stopAt` stop the transfer there, then keeps the body in
 * memory or writes it to a file as the target says.
 */
export class BodySink extends Writable {
  private held: Buffer[] = [];
  private size = 0;
  private decided = false;
  private handle: FileHandle | undefined;
  private path: string | undefined;

  constructor(
    private readonly target: BodyTarget,
    private readonly stopAt: ((sniffed: SniffedMedia) => boolean) | undefined,
    private sniffed: SniffedMedia | undefined,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  /** The body, once the pipeline has finished. */
  stored(): StoredBody {
    const sniffed = this.sniffed ?? { kind: 'unknown' };
    if (this.path) return { sniffed, size: this.size, file: this.path };
    return { sniffed, size: this.size, bytes: Buffer.concat(this.held) };
  }

  /** After a failed transfer: no partial file is left. */
  async discard(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    if (this.path) await rm(this.path, { force: true });
  }

  private async take(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.handle) {
      await this.handle.write(chunk);
      return;
    }
    this.held.push(chunk);
    if (!this.decided && this.size >= HEAD_BYTES) await this.decide();
    if (this.decided && !this.handle && this.size > this.target.memoryBytes) await this.spill();
  }

  private async finish(): Promise<void> {
    if (!this.decided) await this.decide();
    if (this.handle) {
      await this.handle.close();
      this.handle = undefined;
    }
  }

  private async decide(): Promise<void> {
    this.decided = true;
    this.sniffed ??= await sniffMedia(Buffer.concat(this.held).subarray(0, HEAD_BYTES));
    if (this.stopAt?.(this.sniffed)) throw new StopAtHead();
    if (this.target.toFile(this.sniffed) || this.size > this.target.memoryBytes) await this.spill();
  }

  private async spill(): Promise<void> {
    this.path = await this.target.file();
    this.handle = await open(this.path, 'w');
    for (const chunk of this.held) await this.handle.write(chunk);
    this.held = [];
  }
}
