import net from 'node:net';
import type { TestService } from './service.js';

/** One HTTP/1.1 POST /detect written by hand, so a test controls when, and whether, each body byte is sent. */
export interface Exchange {
  /** The answer's status code once its status line arrived; undefined if the server closed first. */
  status: Promise<number | undefined>;
  /** What the server has sent so far. */
  received(): string;
  /** Resolves when the connection is closed, by either side. */
  closed: Promise<void>;
  /** Writes body bytes; false once the connection is gone. */
  write(bytes: Buffer): Promise<boolean>;
  /** The server side's socket, to count what the server read. */
  serverSocket: Promise<net.Socket>;
  destroy(): void;
}

export function exchange(svc: TestService, head: Record<string, string>): Exchange {
  const serverSocket = new Promise<net.Socket>((resolve) => svc.api.server.once('connection', resolve));
  const socket = net.connect(svc.api.port, '127.0.0.1');
  let text = '';
  let answered: (code: number | undefined) => void = () => {};
  const status = new Promise<number | undefined>((resolve) => (answered = resolve));
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    const code = /^(?:HTTP\/1\.1 100 Continue\r\n\r\n)?HTTP\/1\.1 (?!100 )(\d{3}) /.exec(text)?.[1];
    if (code) answered(Number(code));
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => answered(undefined));
  const headers = Object.entries({ host: 'x', ...head }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`POST /detect HTTP/1.1\r\n${headers.join('')}\r\n`);
  return {
    status,
    received: () => text,
    closed,
    serverSocket,
    write: (bytes) =>
      new Promise((resolve) => {
        if (socket.destroyed) resolve(false);
        else socket.write(bytes, (err) => resolve(!err));
      }),
    destroy: () => socket.destroy(),
  };
}

/** Chunked transfer coding of one chunk. */
export const chunked = (bytes: Buffer) =>
  Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);

/** Sends `total` bytes as 64 KiB chunks of a chunked body, as fast as the socket takes them, until the server hangs up. */
export async function flood(ex: Exchange, total: number): Promise<void> {
  const chunk = chunked(Buffer.alloc(64 * 1024, 0xab));
  for (let sent = 0; sent < total; sent += 64 * 1024) if (!(await ex.write(chunk))) return;
}

/** Whether the server hangs up within a second, rather than keeping the connection to read on. */
export const closesSoon = (ex: Exchange) =>
  Promise.race([ex.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 1000))]);

/** The JSON body of the (last) answer. */
export const bodyOf = (ex: Exchange) =>
  JSON.parse(ex.received().slice(ex.received().indexOf('\r\n\r\n{') + 4));
