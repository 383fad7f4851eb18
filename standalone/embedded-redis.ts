import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
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
  /** Any local user may connect to loopback: the password keeps them out of the queues and secrets. */
  private readonly password = randomBytes(24).toString('hex');

  private constructor(
    private readonly options: EmbeddedRedisOptions,
    readonly port: number,
  ) {}

  static async start(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
    const redis = new EmbeddedRedis(options, await freeLoopbackPort());
    await stopLeftover(redis.pidFile);
    await redis.spawn();
    const where = `redis://${HOST}:${redis.port}`;
    options.log.info(
      { redis: where, binary: options.binary, dir: redis.dir },
      `No Redis answered on ${HOST}:6379, so a private one runs at ${where} (data in ${redis.dir}); set REDIS_URL to use your own`,
    );
    return redis;
  }

  /** For this service's processes only: it carries the password. */
  get url(): string {
    return `redis://:${this.password}@${HOST}:${this.port}`;
  }

  private get pidFile(): string {
    return path.join(this.dir, 'redis.pid');
  }

  private get dir(): string {
    return path.join(this.options.dataDir, 'redis');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    if (this.child) await kill(this.child, 'SIGTERM');
  }

  private async spawn(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    // The settings go in on stdin, so the password never shows in the process list. Persistence by
    // append-only file, no snapshots; noeviction, since BullMQ must never lose keys.
    const settings = [
      `bind ${HOST}`,
      `port ${this.port}`,
      `dir "${this.dir}"`,
      `pidfile "${this.pidFile}"`,
      `requirepass ${this.password}`,
      'appendonly yes',
      'save ""',
      'maxmemory-policy noeviction',
      'protected-mode yes',
    ];
    // A group of its own: a Ctrl-C on the terminal reaches the service, which stops Redis last, after
    // the worker has finished its jobs.
    const child = spawn(this.options.binary, ['-'], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    this.child = child;
    child.stdin?.end(settings.join('\n') + '\n');
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
    try {
      await Promise.race([untilAnswers(this.port, this.options.readyTimeoutMs ?? 5000), exitedEarly]);
    } catch (err) {
      // One that never answered must not stay behind, holding the data folder.
      await kill(child);
      throw err;
    }
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

/** Ends a child (SIGTERM lets Redis flush its file), killing it if it takes longer than STOP_TIMEOUT_MS. */
async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(killer);
}

/**
 * A private Redis of an earlier run that died without stopping it (killed with SIGKILL) would keep the same
 * data folder open beside the new one: its pid file names it, and it is stopped first.
 */
async function stopLeftover(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')) return;
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < STOP_TIMEOUT_MS; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (!isAlive(pid)) return;
  }
  process.kill(pid, 'SIGKILL');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
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
