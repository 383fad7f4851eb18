import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { startFixtureServer, type FixtureServer } from './http-fixture-server.js';

export interface RangeServerStats {
  /** Requests per path, and how many of them asked for a range. */
  requests: Map<string, number>;
  rangeRequests: Map<string, number>;
  /** Body bytes sent per path. */
  bytesSent: Map<string, number>;
}

/**
 * Serves files at given paths with Range support (unless `ranges: false`), as S3, CDNs and browsers'
 * video seeking use it, and counts what each path cost.
 */
export async function serveFilesWithRanges(
  files: Record<string, { file: string; type: string }>,
  options: { ranges?: boolean } = {},
): Promise<FixtureServer & { stats: RangeServerStats }> {
  const stats: RangeServerStats = { requests: new Map(), rangeRequests: new Map(), bytesSent: new Map() };
  const add = (counter: Map<string, number>, key: string, n: number) =>
    counter.set(key, (counter.get(key) ?? 0) + n);
  const server = await startFixtureServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const entry = files[pathname];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    add(stats.requests, pathname, 1);
    void stat(entry.file).then(({ size }) => {
      // An origin without range support answers every request with the whole file.
      const range = options.ranges === false ? null : /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      const stream = (start: number, end: number) => {
        const body = createReadStream(entry.file, { start, end });
        body.on('data', (chunk) => add(stats.bytesSent, pathname, chunk.length));
        body.pipe(res);
      };
      if (range) {
        add(stats.rangeRequests, pathname, 1);
        const start = range[1] ? Number(range[1]) : size - Number(range[2]);
        const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, {
          'content-type': entry.type,
          'content-length': end - start + 1,
          'content-range': `bytes ${start}-${end}/${size}`,
          'accept-ranges': 'bytes',
        });
        stream(start, end);
        return;
      }
      res.writeHead(200, { 'content-type': entry.type, 'content-length': size, 'accept-ranges': 'bytes' });
      stream(0, size - 1);
    });
  });
  return { ...server, stats };
}
