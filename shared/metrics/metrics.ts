import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one process. Gateway and worker each register their own group into the
 * process's registry; the all-in-one process puts both groups into one registry, so one /metrics shows all.
 * Labels stay low-cardinality: routes, kinds and outcomes, never ids or URLs.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class GatewayMetrics {
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly queueJobs: Gauge<'queue' | 'state'>;

  /** `readQueues` is called on every scrape to fill `queue_jobs`. */
  constructor(
    registry: Registry,
    readQueues: () => Promise<{ queue: string; state: string; count: number }[]>,
  ) {
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered by the gateway',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to response',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.queueJobs = new Gauge({
      name: 'queue_jobs',
      help: 'Jobs per queue and state, read from BullMQ at scrape time',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        try {
          for (const { queue, state, count } of await readQueues()) this.set({ queue, state }, count);
        } catch {
          // Redis down: keep the last values; /readyz reports the outage.
        }
      },
    });
  }
}

export class WorkerMetrics {
  readonly jobs: Counter<'kind' | 'outcome'>;
  readonly jobDuration: Histogram<'kind'>;
  readonly frames: Counter;
  readonly faces: Counter;
  readonly inference: Histogram;
  readonly extraction: Histogram;
  readonly downloadBytes: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.jobs = new Counter({
      name: 'detect_jobs_total',
      help: 'Detection jobs ended, by queue and outcome (completed, moved to the other queue, failed, retried)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'detect_job_duration_seconds',
      help: 'Time a worker spent on one job attempt',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.frames = new Counter({
      name: 'frames_processed_total',
      help: 'Images and video frames run through detection',
      registers,
    });
    this.faces = new Counter({ name: 'faces_detected_total', help: 'Faces returned in answers', registers });
    this.inference = new Histogram({
      name: 'inference_duration_seconds',
      help: 'Duration of one model run (one scale of one picture)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.extraction = new Histogram({
      name: 'frame_extraction_duration_seconds',
      help: 'Time ffmpeg took to deliver one sampled video frame',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.downloadBytes = new Counter({
      name: 'media_download_bytes_total',
      help: 'Bytes of media downloaded from URLs',
      registers,
    });
  }
}
