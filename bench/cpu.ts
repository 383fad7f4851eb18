import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** User + system CPU of a process in ms, from /proc (10 ms resolution); undefined where unreadable. */
function processCpuMs(pid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/stat`);
}

function statCpuMs(statPath: string): number | undefined {
  try {
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = readFileSync(statPath, 'utf8').split(') ').pop()!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** CPU ms of each thread of this process by its id (/proc/self/task), for a breakdown by thread. */
export function threadCpuMs(): Map<string, number> {
  const threads = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const ms = statCpuMs(`/proc/self/task/${tid}/stat`);
    if (ms !== undefined) threads.set(tid, ms);
  }
  return threads;
}

/** The Redis server's pid, when it runs on this machine (its /proc entry is readable). */
export async function localRedisPid(redisUrl: string): Promise<number | undefined> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  try {
    await redis.connect();
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    return processCpuMs(pid) === undefined ? undefined : pid;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** Which processes to account; 'self' is this one (load generator, in-process pipeline). */
export type CpuTargets = Record<string, number | 'self' | undefined>;

/**
 * CPU spent by each process over a measurement. Throughput on a shared machine moves with the
 * neighbours' load; CPU per image much less, and it says where end-to-end time goes beyond the pipeline.
 */
export async function measureCpu<T>(
  targets: CpuTargets,
  work: () => Promise<T>,
): Promise<{ value: T; cpuMs: Record<string, number> }> {
  const read = () =>
    Object.fromEntries(
      Object.entries(targets).map(([name, pid]) => [
        name,
        pid === 'self' ? selfCpuMs() : pid === undefined ? undefined : processCpuMs(pid),
      ]),
    );
  const before = read();
  const value = await work();
  const after = read();
  const cpuMs: Record<string, number> = {};
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    if (end !== undefined && start !== undefined) cpuMs[name] = end - start;
  }
  return { value, cpuMs };
}

function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
