import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

export interface FileServer {
  /** URL of the file served under `name`. */
  url(name: string): string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.png': 'image/png', '.mp4': 'video/mp4' };

/** Serves files on loopback by name, streamed from disk, so a 340 MB video costs no memory here. */
export async function serveFiles(files: Record<string, string>): Promise<FileServer> {
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
        res.writeHead(200, { 'content-type': type, 'content-length': size });
        await pipeline(createReadStream(file), res).catch(() => undefined);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
