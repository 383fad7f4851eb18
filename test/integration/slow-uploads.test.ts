import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { startService, type TestService } from '../support/service.js';
import { treeRss } from '../support/resource-monitor.js';

const KEY = 'slow-uploads-key-0123';
const MIB = 1024 * 1024;

interface Upload {
  /** The status line's code, once the server answered; undefined if it closed without a word. */
  status: Promise<number | undefined>;
  /** The answer's head and the start of its body, as received so far. */
  answer(): string;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  destroy(): void;
}

/** Starts a POST /detect that announces `announced` bytes, sends `sent` of them and then stalls. */
function stalledUpload(
  port: number,
  announced: number,
  sent: Buffer,
  headers = `Authorization: Bearer ${KEY}\r\n`,
): Upload {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  let answered: (code: number | undefined) => void = () => {};
  const status = new Promise<number | undefined>((resolve) => (answered = resolve));
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    answer += chunk.slice(0, 2000);
    const code = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
    if (code) answered(Number(code));
  });
  socket.on('error', () => undefined);
  socket.write(
    `POST /detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}Content-Length: ${announced}\r\n\r\n`,
  );
  socket.write(sent);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => answered(undefined));
  return { closed, status, answer: () => answer, destroy: () => socket.destroy() };
}

describe('slow and heavy uploads: bodies are bounded in time and in total', function () {
  this.timeout(60_000);
  let svc: TestService;

  before(async () => {
    svc = await startService(
      {
        API_KEYS: KEY,
        BODY_TIMEOUT_MS: '1500',
        HEADERS_TIMEOUT_MS: '1000',
        MAX_INFLIGHT_BODY_BYTES: String(50 * MIB),
      },
      { worker: false },
    );
  });
  after(async () => svc.stop());

  it('when a 10 MB body stalls after one byte, then the connection is cut at BODY_TIMEOUT_MS with 408', async () => {
    const started = performance.now();
    const upload = stalledUpload(svc.api.port, 10 * MIB, Buffer.from('{'));
    expect(await upload.status).to.equal(408);
    expect(performance.now() - started).to.be.within(1400, 4000);
  });

  it('when no key is sent, then 401 comes at once, before the body is read', async () => {
    const started = performance.now();
    const upload = stalledUpload(svc.api.port, 10 * MIB, Buffer.alloc(0), '');
    const status = await Promise.race([
      upload.status,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000)),
    ]);
    upload.destroy();
    expect(status).to.equal(401);
    expect(performance.now() - started).to.be.below(1000);
  });

  it('when uploads in flight would pass MAX_INFLIGHT_BODY_BYTES, then the next is refused with 503 and Retry-After', async () => {
    const chunk = Buffer.alloc(MIB, 0x20);
    const held = [stalledUpload(svc.api.port, 20 * MIB, chunk), stalledUpload(svc.api.port, 20 * MIB, chunk)];
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = stalledUpload(svc.api.port, 20 * MIB, Buffer.from('{'));
    const status = await refused.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const upload of [...held, refused]) upload.destroy();
    expect(status).to.equal(503);
    expect(refused.answer()).to.match(/\r\nRetry-After: 5\r\n/i);
    expect(refused.answer()).to.match(/MAX_INFLIGHT_BODY_BYTES/);
  });

  it('when one kept-alive connection carries many requests, then each releases its share and no listener piles up', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 20; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(`${svc.url}/detect`, {
            method: 'POST',
            agent,
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          });
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end('{}');
        });
        expect(status).to.equal(400);
      }
    } finally {
      agent.destroy();
      process.off('warning', onWarning);
    }
    expect(warnings).to.not.include('MaxListenersExceededWarning');
  });

  it('when 40 uploads of 20 MB stall, then all are cut and the memory returns to within 100 MB of where it was', async () => {
    const before = await treeRss();
    const chunk = Buffer.alloc(2 * MIB, 0x20);
    const uploads = Array.from({ length: 40 }, () => stalledUpload(svc.api.port, 20 * MIB, chunk));
    const statuses = await Promise.all(uploads.map((u) => u.status));
    // Within the budget the bodies wait and are cut; past it they are refused at once.
    expect(
      statuses.every((s) => s === 408 || s === 503),
      JSON.stringify(statuses),
    ).to.equal(true);
    expect(statuses.filter((s) => s === 503)).to.not.be.empty;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await treeRss();
    expect(after - before, `grew by ${((after - before) / MIB).toFixed(0)} MiB`).to.be.below(100 * MIB);
    // And the budget is whole again.
    const ok = stalledUpload(svc.api.port, 20 * MIB, Buffer.from('{'));
    expect(await ok.status).to.equal(408);
  });
});
