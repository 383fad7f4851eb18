import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import { once } from 'node:events';
import { toInput, type VideoSource } from './ffmpeg-args.js';

/**
 * Random access to a video's bytes, on disk or through the worker's loopback range proxy, for the few
 * structures we read ourselves (an AVI's idx1, an MP4's boxes). Reads are awaited one at a time, so a
 * parser driven by them hands the event loop back between pieces.
 */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `offset`; fewer only where the file ends. */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface ByteSourceOptions {
  signal?: AbortSignal;
  /** A read that gets no data for this long fails. */
  idleTimeoutMs: number;
}

export async function openByteSource(source: VideoSource, options: ByteSourceOptions): Promise<ByteSource> {
  const input = toInput(source);
  return input.kind === 'file' ? FileSource.open(input.path) : HttpRangeSource.open(input.url, options);
}

class FileSource implements ByteSource {
  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileSource> {
    const handle = await open(path, 'r');
    try {
      return new FileSource(handle, (await handle.stat()).size);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const wanted = Math.max(0, Math.min(length, this.size - offset));
    const buffer = Buffer.alloc(wanted);
    let filled = 0;
    while (filled < wanted) {
      const { bytesRead } = await this.handle.read(buffer, filled, wanted - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * Reads the range proxy as ffmpeg does, with `Range` requests on loopback; the proxy answers each with at
 * most one of its pieces, so a read asks again for the rest. The proxy enforces the URL guard and the byte
 * budget; this side only refuses answers that are not the range asked.
 */
class HttpRangeSource implements ByteSource {
  private constructor(
    private readonly url: string,
    private readonly options: ByteSourceOptions,
    readonly size: number,
  ) {}

  static async open(url: string, options: ByteSourceOptions): Promise<HttpRangeSource> {
    const { total } = await get(url, 0, 0, options);
    return new HttpRangeSource(url, options, total);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(this.size, offset + length);
    const parts: Buffer[] = [];
    for (let at = offset; at < end;) {
      const { body } = await get(this.url, at, end - 1, this.options);
      if (body.length === 0) throw new Error(`the range proxy sent nothing at ${at}`);
      parts.push(body);
      at += body.length;
    }
    return Buffer.concat(parts);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** One `Range` request: the bytes from `first` (at most to `last`) and the total the answer states. */
async function get(
  url: string,
  first: number,
  last: number,
  options: ByteSourceOptions,
): Promise<{ body: Buffer; total: number }> {
  const req = http.get(url, { headers: { range: `bytes=${first}-${last}` }, signal: options.signal });
  req.setTimeout(options.idleTimeoutMs, () => req.destroy(new Error('the range proxy stalled')));
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
  if (res.statusCode !== 206 || !range || Number(range[1]) !== first) {
    res.resume();
    throw new Error(`the range proxy answered ${res.statusCode} to bytes=${first}-${last}`);
  }
  const wanted = Math.min(last, Number(range[2])) - first + 1;
  const parts: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res) {
    parts.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes > wanted) {
      res.destroy();
      throw new Error('the range proxy sent more than the range asked');
    }
  }
  return { body: Buffer.concat(parts), total: Number(range[3]) };
}

/** Copies the whole source to a local file, piece by piece: the download a range read falls back to. */
export async function copyToFile(source: ByteSource, path: string, pieceBytes = 1024 * 1024): Promise<void> {
  const out = createWriteStream(path);
  try {
    for (let at = 0; at < source.size; at += pieceBytes) {
      const piece = await source.read(at, pieceBytes);
      if (!out.write(piece)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } finally {
    out.destroy();
  }
}
