import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../shared/logging/logger.js';

export interface EmbeddedRedisOptions {
  /** The `redis-server` to run. */
  binary: string;
  /** Its data (the append-only file) is kept under `<dataDir>/redis`, so queued jobs survive a restart. */
  dataDir: string;
  log: Logger;
  /**
   * How long the server may take to accept connections, at start and after a restart.
   * @defaultValue 5000
   */
  readyTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const STOP_TIMEOUT_MS = 5000;
const RESTART_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];

/**
 * A private redis-server for `npm start` on a machine where Redis is installed but not running: a child
 * process on a free loopback port, restarted if it dies, stopped with the service. It is never used when
 * the deployer names a Redis (REDIS_URL, a Cluster or Sentinels), and the separate gateway and worker
 * processes never start one.
 */
export class EmbeddedRedis {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: EmbeddedRedisOptions,
    readonly port: number,
  ) {}

  static async start(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
    const redis = new EmbeddedRedis(options, await freeLoopbackPort());
    await redis.spawn();
    options.log.info(
      { redis: redis.url, binary: options.binary, dir: redis.dir },
      `No Redis answered on ${HOST}:6379, so a private one runs at ${redis.url} (data in ${redis.dir}); set REDIS_URL to use your own`,
    );
    return redis;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  private get dir(): string {
    return path.join(this.options.dataDir, 'redis');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  }

  private async spawn(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    // Persistence by append-only file, no snapshots; noeviction, since BullMQ must never lose keys.
    const args = ['--bind', HOST, '--port', String(this.port), '--dir', this.dir, '--appendonly', 'yes'];
    args.push('--save', '', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes');
    const child = spawn(this.options.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const exitedEarly = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(
          new Error(`redis-server exited (${signal ?? `code ${code}`}): ${stderr.trim() || 'no output'}`),
        ),
      );
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([untilAnswers(this.port, this.options.readyTimeoutMs ?? 5000), exitedEarly]);
    child.once('exit', (code, signal) => this.onExit(code, signal));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const wait = RESTART_BACKOFF_MS[Math.min(this.restarts, RESTART_BACKOFF_MS.length - 1)] ?? 30_000;
    this.restarts += 1;
    this.options.log.error(
      { code, signal, restartInMs: wait },
      'The private Redis exited; restarting it on the same port',
    );
    this.restartTimer = setTimeout(() => {
      this.spawn().catch((err: unknown) => {
        this.options.log.error({ err }, 'The private Redis did not restart');
        this.onExit(null, null);
      });
    }, wait);
  }
}

/** Whether something accepts TCP connections on `host:port` within `timeoutMs`. */
export function answers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function untilAnswers(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(HOST, port, 200)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not accept connections on ${HOST}:${port} within ${timeoutMs} ms`);
}

/** A port free on loopback now; redis-server cannot be told to pick one and report it. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
