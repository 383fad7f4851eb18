import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { image } from '../support/fixtures.js';
import { startFixtureServer, type FixtureServer } from '../support/http-fixture-server.js';
import { startService, type TestService } from '../support/service.js';

/** POSTs JSON with headers fetch() will not send (Host), answering the parsed body. */
function post(url: string, body: object, headers: Record<string, string>): Promise<any> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        ...headers,
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** An HTTP/1.0 request with no Host header at all, as old clients and scanners send. */
function postWithoutHost(port: number, body: object): Promise<any> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      // Written, not ended: the server closes an HTTP/1.0 connection itself after its answer.
      socket.write(
        `POST /detect HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
      );
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))));
    socket.on('error', reject);
  });
}

/** GETs JSON with the given headers (Host included), answering the parsed body. */
function get(url: string, headers: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text)));
      })
      .on('error', reject);
  });
}

/** A loopback callback receiver that keeps the parsed bodies it was sent. */
async function startReceiver(): Promise<FixtureServer & { bodies: any[] }> {
  const bodies: any[] = [];
  const server = await startFixtureServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(204).end();
    });
  });
  return { ...server, bodies };
}

/**
 * Submits a cropping job with a callback, sending `headers` with the submit and with every poll (as a
 * client behind one proxy does), and answers the face URLs of the finished poll and of the callback.
 */
async function cropLinks(
  svc: TestService,
  receiver: FixtureServer & { bodies: any[] },
  img: string,
  headers: Record<string, string> = {},
): Promise<{ polled: string[]; called: string[] }> {
  const pending = await post(
    `${svc.url}/detect`,
    { img, return_face_url: true, async: true, callback_url: `${receiver.url}/hook` },
    headers,
  );
  let poll: any;
  for (let i = 0; i < 300 && poll?.status !== 'completed'; i++) {
    poll = await get(`${svc.url}/jobs/${pending.job_id}`, headers);
    if (poll.status !== 'completed') await new Promise((r) => setTimeout(r, 20));
  }
  expect(poll.status).to.equal('completed');
  let hook: any;
  for (let i = 0; i < 200 && !hook; i++) {
    hook = receiver.bodies.find((b) => b.job_id === pending.job_id);
    if (!hook) await new Promise((r) => setTimeout(r, 20));
  }
  expect(hook, 'the callback arrived').to.not.equal(undefined);
  return { polled: poll.result.faces_obj['0'].face_urls, called: hook.faces_obj['0'].face_urls };
}

describe('public URLs come from configuration, never from the Host header', function () {
  this.timeout(60_000);
  let obama: string;
  let receiver: FixtureServer & { bodies: any[] };
  before(async () => {
    obama = (await readFile(image('obama.jpg'))).toString('base64');
    receiver = await startReceiver();
  });
  after(async () => receiver.close());

  describe('without PUBLIC_BASE_URL or a trusted proxy', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService();
    });
    after(async () => svc.stop());

    it('when the Host header is hostile, then status_url and crop URLs use the address the gateway listens on', async () => {
      const pending = await post(`${svc.url}/detect`, { img: obama, async: true }, { host: 'evil.example' });
      expect(pending.status_url).to.equal(`${svc.url}/jobs/${pending.job_id}`);
      const cropped = await post(
        `${svc.url}/detect`,
        { img: obama, return_face_url: true },
        { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      );
      expect(cropped.faces_obj['0'].face_urls).to.have.length(1);
      expect(cropped.faces_obj['0'].face_urls[0]).to.match(new RegExp(`^${svc.url}/crops/`));
    });

    it('when a job with crops has a callback, then the callback carries the absolute links its poll answers', async () => {
      const { polled, called } = await cropLinks(svc, receiver, obama, { host: 'evil.example' });
      expect(polled).to.have.length(1);
      expect(polled[0]).to.match(new RegExp(`^${svc.url}/crops/`));
      expect(called).to.deep.equal(polled);
    });

    it('when an HTTP/1.0 request has no Host, then status_url keeps the port', async () => {
      const pending = await postWithoutHost(svc.api.port, { img: obama, async: true });
      expect(pending.status_url).to.equal(`${svc.url}/jobs/${pending.job_id}`);
    });
  });

  describe('behind a trusted proxy (TRUST_PROXY=loopback)', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService({ TRUST_PROXY: 'loopback' });
    });
    after(async () => svc.stop());

    it('when the proxy forwards scheme and host, then URLs use them; a bare Host alone is still ignored', async () => {
      const forwarded = await post(
        `${svc.url}/detect`,
        { img: obama, async: true },
        { 'x-forwarded-host': 'faces.example.com', 'x-forwarded-proto': 'https' },
      );
      expect(forwarded.status_url).to.equal(`https://faces.example.com/jobs/${forwarded.job_id}`);
      const bare = await post(`${svc.url}/detect`, { img: obama, async: true }, { host: 'evil.example' });
      expect(bare.status_url).to.equal(`${svc.url}/jobs/${bare.job_id}`);
    });

    it('when a job submitted through the proxy has a callback, then its links use the forwarded host, as its poll does', async () => {
      const { polled, called } = await cropLinks(svc, receiver, obama, {
        'x-forwarded-host': 'faces.example.com',
        'x-forwarded-proto': 'https',
      });
      expect(polled[0]).to.match(/^https:\/\/faces\.example\.com\/crops\//);
      expect(called).to.deep.equal(polled);
    });
  });

  describe('behind a trusted proxy that is not the client (TRUST_PROXY=10.0.0.1)', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService({ TRUST_PROXY: '10.0.0.1' });
    });
    after(async () => svc.stop());

    it('when a client connects directly with matching Host and X-Forwarded-Host, then neither is believed', async () => {
      const direct = await post(
        `${svc.url}/detect`,
        { img: obama, async: true },
        { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      );
      expect(direct.status_url).to.equal(`${svc.url}/jobs/${direct.job_id}`);
    });
  });

  describe('with PUBLIC_BASE_URL', () => {
    let svc: TestService;
    before(async () => {
      svc = await startService({ PUBLIC_BASE_URL: 'https://faces.example.org/api/' });
    });
    after(async () => svc.stop());

    it('when any headers are sent, then URLs start with PUBLIC_BASE_URL', async () => {
      const pending = await post(
        `${svc.url}/detect`,
        { img: obama, async: true },
        { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
      );
      expect(pending.status_url).to.equal(`https://faces.example.org/api/jobs/${pending.job_id}`);
    });

    it('when a job with crops has a callback, then the callback carries the links its poll answers', async () => {
      const { polled, called } = await cropLinks(svc, receiver, obama, { host: 'evil.example' });
      expect(polled[0]).to.match(/^https:\/\/faces\.example\.org\/api\/crops\//);
      expect(called).to.deep.equal(polled);
    });
  });
});
