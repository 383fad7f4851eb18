import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * Real Redis topologies on loopback for a test (redis-cluster-topology.ts, redis-sentinel-topology.ts).
 * Each node is a redis-server child of the test, with a password and the settings deployers are given
 * (deploy/redis/redis.conf); timeouts are short so a failover takes seconds. `stop()` kills every node and
 * removes their files.
 */

export const PASSWORD = 'topology-test-password';
const SETTINGS = path.resolve('deploy/redis/redis.conf');
const AUTH = ['--requirepass', PASSWORD, '--masterauth', PASSWORD];

interface Node {
  port: number;
  child: ChildProcess;
}

/** Calls `probe` until it returns true, every 100 ms, for at most `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A short-lived connection to one node, closed after `use`. */
export async function onNode<T>(
  port: number,
  use: (redis: Redis) => Promise<T>,
  password = PASSWORD,
): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Loopback addresses of `ports`, as the REDIS_CLUSTER_NODES and REDIS_SENTINELS variables list them. */
export const loopbackList = (ports: number[]) => ports.map((p) => `127.0.0.1:${p}`).join(',');

export const info = (port: number, section: string) => onNode(port, (r) => r.info(section));
export const field = (text: string, name: string) =>
  new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();

export abstract class Topology {
  protected readonly nodes: Node[] = [];
  /** The replicas of the node killed last. */
  protected candidates: number[] = [];

  protected constructor(protected readonly dir: string) {}

  /** Brings `topology` up with `up`; when a step fails, whatever it started is stopped before the error goes on. */
  protected static async bringUp<T extends Topology>(topology: T, up: () => Promise<void>): Promise<T> {
    try {
      await up();
      return topology;
    } catch (err) {
      await topology.stop();
      throw err;
    }
  }

  /** The service's environment for this topology. */
  abstract get env(): Record<string, string>;

  /** Port of the primary that holds the keys of `prefix` (a hash tag). */
  abstract primaryFor(prefix: string): Promise<number>;

  /** Port of the replica of `primary` that took over once it is gone; resolves once it serves writes. */
  abstract promoted(primary: number): Promise<number>;

  /**
   * How long a replica of `primary` takes to hold everything written to it so far: the replication lag,
   * within which writes acknowledged by the primary are lost if it dies.
   */
  async replicationLagMs(primary: number): Promise<number> {
    const started = performance.now();
    const target = Number(field(await info(primary, 'replication'), 'master_repl_offset'));
    const replicas = await this.replicasOf(primary);
    await waitFor(
      'a replica to catch up',
      async () => {
        const offsets = await Promise.all(
          replicas.map(async (p) => Number(field(await info(p, 'replication'), 'slave_repl_offset'))),
        );
        return offsets.some((o) => o >= target);
      },
      5000,
    );
    return performance.now() - started;
  }

  /**
   * SIGKILL: no shutdown, no last AOF flush, as a lost host. Resolves with the time of the kill, once the
   * node's replicas (the candidates to take over) are noted.
   */
  async kill(port: number): Promise<number> {
    this.candidates = await this.replicasOf(port);
    this.nodes.find((n) => n.port === port)?.child.kill('SIGKILL');
    return Date.now();
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  protected abstract replicasOf(primary: number): Promise<number[]>;

  /** Starts a node in a folder of its own (AOF, cluster state, a sentinel's rewritten config). */
  protected async spawn(port: number, args: string[], password: string | undefined = PASSWORD) {
    await mkdir(this.nodeDir(port), { recursive: true });
    // A node's own copy: Redis rewrites its config file on a failover.
    await copyFile(SETTINGS, path.join(this.nodeDir(port), 'redis.conf'));
    const child = spawn('redis-server', args, { cwd: this.nodeDir(port), stdio: 'ignore' });
    this.nodes.push({ port, child });
    const exited = () => child.exitCode !== null;
    await waitFor(
      `redis-server on ${port}`,
      async () => exited() || (await onNode(port, (r) => r.ping(), password)) === 'PONG',
    );
    if (exited()) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`);
  }

  protected nodeArgs(port: number): string[] {
    return [
      path.join(this.nodeDir(port), 'redis.conf'),
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.nodeDir(port),
      ...AUTH,
    ];
  }

  protected nodeDir(port: number): string {
    return path.join(this.dir, String(port));
  }
}
