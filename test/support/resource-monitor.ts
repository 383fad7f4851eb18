import { readdir, readFile } from 'node:fs/promises';

export interface ResourceReport {
  /** Slowest /healthz answer while watched, in ms; a request that failed counts as its time to fail. */
  maxHealthMs: number;
  /** Highest resident memory of this process and its children (ffmpeg, ffprobe) together, in bytes. */
  peakRssBytes: number;
  /** Resident memory of this process and its children when watching began. */
  startRssBytes: number;
}

/** Resident bytes of this process plus its direct children, read from /proc. */
export async function treeRss(): Promise<number> {
  let total = process.memoryUsage.rss();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (!new RegExp(`^PPid:\\s+${process.pid}$`, 'm').test(status)) continue;
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (rss) total += Number(rss[1]) * 1024;
  }
  return total;
}

/**
 * The slowest answer of GET `url` (body read), asked every `everyMs` while `running()` holds, in ms; a
 * request that fails, or is cut at `timeoutMs`, counts as its time to fail.
 */
export async function slowestAnswer(
  url: string,
  running: () => boolean,
  { everyMs, timeoutMs }: { everyMs: number; timeoutMs: number },
): Promise<number> {
  let slowest = 0;
  while (running()) {
    const t0 = performance.now();
    await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
      .then((res) => res.arrayBuffer())
      .catch(() => undefined);
    slowest = Math.max(slowest, performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return slowest;
}

/**
 * Polls `healthUrl` every 50 ms and samples memory every 100 ms until stopped: what a load balancer and
 * the kernel would see of the service while it works on something hostile. Bounded by the caller's stop.
 */
export function watchService(healthUrl: string): { stop(): Promise<ResourceReport> } {
  let running = true;
  let peakRssBytes = 0;
  let startRssBytes = 0;
  const health = slowestAnswer(healthUrl, () => running, { everyMs: 50, timeoutMs: 5000 });
  const memory = (async () => {
    startRssBytes = await treeRss();
    while (running) {
      peakRssBytes = Math.max(peakRssBytes, await treeRss());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      const [maxHealthMs] = await Promise.all([health, memory]);
      return { maxHealthMs, peakRssBytes, startRssBytes };
    },
  };
}
