import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { image } from '../support/fixtures.js';
import { serveFiles, type FixtureServer } from '../support/http-fixture-server.js';
import { postJson, startService, type TestService } from '../support/service.js';

/** The value of one sample line, e.g. `frames_processed_total 3` or `http_requests_total{…} 2`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('metrics', function () {
  let svc: TestService;
  let files: FixtureServer;
  let obama: Buffer;

  before(async () => {
    obama = await readFile(image('obama.jpg'));
    files = await serveFiles({ '/obama.jpg': { body: obama, type: 'image/jpeg' } });
    svc = await startService();
    await postJson(`${svc.url}/detect`, { img: obama.toString('base64') });
    await postJson(`${svc.url}/detect`, { url: `${files.url}/obama.jpg` });
    await postJson(`${svc.url}/detect`, {});
  });
  after(async () => {
    await svc.stop();
    await files.close();
  });

  it('when requests were served, then the gateway exposes HTTP and queue metrics with low-cardinality labels on its own port', async () => {
    const text = await (await fetch(`http://127.0.0.1:${svc.api.metricsPort}/metrics`)).text();
    expect(sample(text, 'http_requests_total', { route: '/detect', method: 'POST', status: '200' })).to.equal(
      2,
    );
    expect(sample(text, 'http_requests_total', { route: '/detect', method: 'POST', status: '400' })).to.equal(
      1,
    );
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        route: '/detect',
        method: 'POST',
        status: '200',
      }),
    ).to.equal(2);
    expect(sample(text, 'queue_jobs', { queue: 'detect-image', state: 'waiting' })).to.equal(0);
    expect(sample(text, 'queue_jobs', { queue: 'detect-video', state: 'active' })).to.equal(0);
    expect(text).to.include('process_cpu_seconds_total');
    expect(text).to.not.match(/job_id|[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('when /metrics is asked of the public port, with or without a key, then it answers 404', async () => {
    for (const headers of [{}, { authorization: 'Bearer anything' }] as Record<string, string>[]) {
      const res = await fetch(`${svc.url}/metrics`, { headers });
      expect(res.status).to.equal(404);
      expect(await res.text()).to.not.include('http_requests_total');
    }
  });

  it('when jobs ran, then the worker exposes job, frame, face, inference and download metrics on its own port', async () => {
    const text = await (await fetch(`http://127.0.0.1:${svc.worker!.metricsPort}/metrics`)).text();
    expect(sample(text, 'detect_jobs_total', { kind: 'image', outcome: 'completed' })).to.equal(2);
    expect(sample(text, 'detect_job_duration_seconds_count', { kind: 'image' })).to.equal(2);
    expect(sample(text, 'frames_processed_total')).to.equal(2);
    expect(sample(text, 'faces_detected_total')).to.equal(2);
    expect(sample(text, 'inference_duration_seconds_count')).to.be.at.least(4);
    expect(sample(text, 'media_download_bytes_total')).to.equal(obama.length);
    expect(text).to.include('# TYPE frame_extraction_duration_seconds histogram');
    expect(text).to.include('nodejs_eventloop_lag_seconds');
  });
});
