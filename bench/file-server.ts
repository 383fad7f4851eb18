import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

export interface FileServer {
  /** URL of the file served under `name`. */
  url(name: string): string;
  /** Body bytes sent for `name` so far, over every request. */
  bytesSent(name: string): number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.png': 'image/png', '.mp4': 'video/mp4' };

/**
 * Serves files on loopback by name, streamed from disk, so a 340 MB video costs no memory here. Byte
 * ranges are served as S3 or a CDN serves them, so the worker may read long videos by range.
 */
export async function serveFiles(files: Record<string, string>): Promise<FileServer> {
  const sent = new Map<string, number>();
  const send = async (name: string, file: string, res: ServerResponse, start: number, end: number) => {
    const body = createReadStream(file, { start, end });
    body.on('data', (chunk) => sent.set(name, (sent.get(name) ?? 0) + chunk.length));
    await pipeline(body, res).catch(() => undefined);
  };
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    const file = files[name];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    void stat(file).then(
      async ({ size }) => {
        const type = TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
        const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        if (!range) {
          res.writeHead(200, { 'content-type': type, 'content-length': size, 'accept-ranges': 'bytes' });
          await send(name, file, res, 0, size - 1);
          return;
        }
        const start = Number(range[1]);
        const end = Math.min(size - 1, range[2] ? Number(range[2]) : size - 1);
        res.writeHead(206, {
          'content-type': type,
          'content-length': end - start + 1,
          'content-range': `bytes ${start}-${end}/${size}`,
        });
        await send(name, file, res, start, end);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    bytesSent: (name) => sent.get(name) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
