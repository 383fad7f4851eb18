import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { startFixtureServer } from './http-fixture-server.js';

/** Serves files at given paths with Range support (browsers seek videos with Range requests). */
export function serveFilesWithRanges(files: Record<string, { file: string; type: string }>) {
  return startFixtureServer((req, res) => {
    const entry = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    void stat(entry.file).then(({ size }) => {
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = range[1] ? Number(range[1]) : size - Number(range[2]);
        const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, {
          'content-type': entry.type,
          'content-length': end - start + 1,
          'content-range': `bytes ${start}-${end}/${size}`,
          'accept-ranges': 'bytes',
        });
        createReadStream(entry.file, { start, end }).pipe(res);
        return;
      }
      res.writeHead(200, { 'content-type': entry.type, 'content-length': size, 'accept-ranges': 'bytes' });
      createReadStream(entry.file).pipe(res);
    });
  });
}
