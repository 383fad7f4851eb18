import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { field, info, loopbackList, onNode, PASSWORD, Topology, waitFor } from './redis-topology.js';

/** A primary, its replica and 3 sentinels on loopback. */
export class SentinelTopology extends Topology {
  static readonly NAME = 'facedetect-primary';

  private constructor(
    dir: string,
    private readonly base: number,
  ) {
    super(dir);
  }

  private get sentinelPorts(): number[] {
    return [10, 11, 12].map((i) => this.base + i);
  }

  /** A primary on `basePort`, its replica on `basePort + 1`, sentinels on `basePort + 10`…`+ 12`. */
  static async start(basePort: number): Promise<SentinelTopology> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-sentinel-'));
    const topology = new SentinelTopology(dir, basePort);
    return Topology.bringUp(topology, async () => {
      await topology.spawn(basePort, topology.nodeArgs(basePort));
      const replica = basePort + 1;
      await topology.spawn(replica, [
        ...topology.nodeArgs(replica),
        '--replicaof',
        '127.0.0.1',
        String(basePort),
      ]);
      for (const port of topology.sentinelPorts) await topology.startSentinel(port);
      await waitFor(
        'every sentinel to know the replica and the other sentinels',
        async () => {
          const views = await Promise.all(
            topology.sentinelPorts.map((p) =>
              onNode(
                p,
                async (r) => [
                  ((await r.call('SENTINEL', 'REPLICAS', SentinelTopology.NAME)) as unknown[]).length,
                  ((await r.call('SENTINEL', 'SENTINELS', SentinelTopology.NAME)) as unknown[]).length,
                ],
                undefined,
              ),
            ),
          );
          return views.every(([replicas, sentinels]) => replicas === 1 && sentinels === 2);
        },
        30_000,
      );
    });
  }

  get env(): Record<string, string> {
    return {
      REDIS_URL: '',
      REDIS_SENTINELS: loopbackList(this.sentinelPorts),
      REDIS_SENTINEL_NAME: SentinelTopology.NAME,
      REDIS_PASSWORD: PASSWORD,
    };
  }

  async primaryFor(): Promise<number> {
    return this.sentinelPrimary();
  }

  async promoted(primary: number): Promise<number> {
    let port = primary;
    await waitFor('the sentinels to promote the replica', async () => {
      port = await this.sentinelPrimary();
      return port !== primary && field(await info(port, 'replication'), 'role') === 'master';
    });
    return port;
  }

  protected replicasOf(primary: number): Promise<number[]> {
    return Promise.resolve([primary === this.base ? this.base + 1 : this.base]);
  }

  private async sentinelPrimary(): Promise<number> {
    const [, port] = (await onNode(
      this.sentinelPorts[0]!,
      (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SentinelTopology.NAME),
      undefined,
    )) as [string, string];
    return Number(port);
  }

  /** Sentinel rewrites its config file, so each has one of its own. */
  private async startSentinel(port: number): Promise<void> {
    const file = path.join(this.nodeDir(port), 'sentinel.conf');
    const name = SentinelTopology.NAME;
    await mkdir(this.nodeDir(port), { recursive: true });
    await writeFile(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.nodeDir(port)}`,
        `sentinel monitor ${name} 127.0.0.1 ${this.base} 2`,
        `sentinel auth-pass ${name} ${PASSWORD}`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'),
    );
    await this.spawn(port, [file, '--sentinel'], undefined);
  }
}
