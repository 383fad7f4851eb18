import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The commands Redis ran while `during` ran, each as its name and arguments, kept only when an argument
 * includes `needle`. Redis reports commands to MONITOR in the order it runs them, so once a marker sent
 * after `during` has been seen, every command of `during` has been too.
 */
export async function commandsMentioning(
  redisUrl: string,
  needle: string,
  during: () => Promise<unknown>,
): Promise<string[][]> {
  const client = new Redis(redisUrl);
  const monitor = await client.monitor();
  const seen: string[][] = [];
  const marker = `monitor-marker-${randomUUID()}`;
  try {
    const markerSeen = new Promise<void>((resolve) => {
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args.some((a) => a.includes(needle))) seen.push(args);
        if (args[1] === marker) resolve();
      });
    });
    await during();
    await client.echo(marker);
    await markerSeen;
    return seen;
  } finally {
    monitor.disconnect();
    client.disconnect();
  }
}
