import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { field, info, loopbackList, onNode, PASSWORD, Topology, waitFor } from './redis-topology.js';

const execFileAsync = promisify(execFile);

/** A Redis Cluster of 3 primaries and 3 replicas on loopback. */
export class ClusterTopology extends Topology {
  private constructor(
    dir: string,
    private readonly ports: number[],
  ) {
    super(dir);
  }

  /** Six nodes on `basePort`…`basePort + 5`, joined by `redis-cli --cluster create` with one replica each. */
  static async start(basePort: number): Promise<ClusterTopology> {
    const ports = Array.from({ length: 6 }, (_, i) => basePort + i);
    const topology = new ClusterTopology(await mkdtemp(path.join(os.tmpdir(), 'facedetect-cluster-')), ports);
    return Topology.bringUp(topology, async () => {
      for (const port of ports) {
        await topology.spawn(port, [
          ...topology.nodeArgs(port),
          ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
          ...['--cluster-node-timeout', '1000'],
        ]);
      }
      const addresses = ports.map((p) => `127.0.0.1:${p}`);
      await execFileAsync('redis-cli', [
        ...['-a', PASSWORD, '--no-auth-warning', '--cluster', 'create', ...addresses],
        ...['--cluster-replicas', '1', '--cluster-yes'],
      ]);
      await waitFor('the cluster to be ok on every node', async () => {
        const states = await Promise.all(ports.map((p) => onNode(p, (r) => r.cluster('INFO'))));
        return states.every((s) => field(s, 'cluster_state') === 'ok');
      });
    });
  }

  get env(): Record<string, string> {
    return {
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: loopbackList(this.ports),
      REDIS_PASSWORD: PASSWORD,
    };
  }

  async primaryFor(prefix: string): Promise<number> {
    const slot = await onNode(this.ports[0]!, (r) => r.cluster('KEYSLOT', prefix));
    const owner = (await this.table()).find(
      (n) => n.primary && n.slots.some(([a, b]) => a <= slot && slot <= b),
    );
    if (!owner) throw new Error(`no primary holds slot ${slot}`);
    return owner.port;
  }

  async promoted(primary: number): Promise<number> {
    let port: number | undefined;
    await waitFor('a replica to be promoted', async () => {
      const table = await this.table(primary);
      port = table.find((n) => n.primary && this.candidates.includes(n.port) && n.slots.length > 0)?.port;
      return port !== undefined && field(await info(port, 'replication'), 'role') === 'master';
    });
    return port!;
  }

  protected async replicasOf(primary: number): Promise<number[]> {
    const table = await this.table();
    const id = table.find((n) => n.port === primary)?.id;
    return table.filter((n) => n.primaryId === id).map((n) => n.port);
  }

  /** The cluster as a node other than `dead` sees it. */
  private async table(dead?: number) {
    const live = this.ports.find((p) => p !== dead)!;
    return parseNodes(await onNode(live, (r) => r.cluster('NODES') as Promise<string>));
  }
}

/** CLUSTER NODES: `<id> <ip:port@bus> <flags> <primary id|-> … <slot ranges>` per line. */
function parseNodes(text: string) {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', primaryId = '', , , , , ...slots] = line.split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        primary: flags.includes('master') && !flags.includes('fail'),
        primaryId,
        slots: slots
          .filter((s) => /^\d/.test(s))
          .map((s) => s.split('-').map(Number))
          .map(([a = 0, b = a]) => [a, b] as const),
      };
    });
}
