import http from 'node:http';
import { summarize, type LatencySummary } from './stats.js';

export interface LoadOptions {
  /** Requests in flight at once: each client sends its next request when its previous answer is in. */
  concurrency: number;
  /** Upper bounds; whichever is reached first ends the run. Requests in flight then finish. */
  maxRequests: number;
  maxSeconds: number;
  /** Requests sent and not counted first, per client, so that connections and caches are warm. */
  warmupPerClient?: number;
}

export interface LoadResult {
  concurrency: number;
  requests: number;
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
}

/** One closed-loop run's raw timings; runs of the same kind are pooled by `pool`. */
export interface LoadSample {
  concurrency: number;
  seconds: number;
  latencies: number[];
}

/**
 * A closed-loop load: `concurrency` clients, each waiting for its answer before sending again, so the
 * service is never asked for more than it can hold and throughput is what it sustains. `send` throws on
 * any answer but success, which stops the run: a figure that includes failures means nothing.
 */
export async function runLoad(options: LoadOptions, send: () => Promise<void>): Promise<LoadSample> {
  const warmup = options.warmupPerClient ?? 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let i = 0; i < warmup; i++) await send();
    }),
  );
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;
  let issued = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (issued < options.maxRequests && performance.now() < deadline) {
        issued++;
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { concurrency: options.concurrency, seconds: (performance.now() - started) / 1000, latencies };
}

/**
 * Pools runs taken in turns with other measurements, so that a burst of a neighbour's work on a shared
 * machine lands on every figure alike instead of on whichever ran at the time.
 */
export function pool(samples: readonly LoadSample[]): LoadResult {
  const latencies = samples.flatMap((s) => s.latencies);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  return {
    concurrency: samples[0]!.concurrency,
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    latencyMs: summarize(latencies),
  };
}

/**
 * POSTs `body` as `contentType` (a JSON request prepared once, or the image itself) and checks the
 * answer (a /detect answer unless `A` says otherwise). node:http with a keep-alive agent rather than
 * fetch: the client shares the cores with the service, and fetch cost it 3.6–3.9 ms of CPU per request
 * against 0.8–0.9 ms.
 */
export function detectSender<A extends { error_code: number } = DetectAnswer>(
  url: string,
  body: string | Buffer,
  check: (answer: NoInfer<A>) => void,
  contentType = 'application/json',
): () => Promise<void> {
  const target = new URL(url);
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const agent = new http.Agent({ keepAlive: true });
  const options: http.RequestOptions = {
    host: target.hostname,
    port: target.port,
    path: `${target.pathname}${target.search}`,
    method: 'POST',
    agent,
    headers: { 'content-type': contentType, 'content-length': payload.length },
  };
  return async () => {
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
    const refused = () => new Error(`POST ${url} answered ${status}: ${text.slice(0, 300)}`);
    if (status !== 200) throw refused();
    const answer = JSON.parse(text) as A;
    if (answer.error_code !== 0) throw refused();
    check(answer);
  };
}

export interface DetectAnswer {
  error_code: number;
  error_msg: string;
  faces_obj: Record<string, { region: number[][] }>;
}
