import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Where Redis is and how to reach it: one node by URL, a Redis Cluster, or a primary found through
 * Sentinel. Credentials and TLS apply to all three.
 */
interface RedisEndpoint {
  host: string;
  port: number;
}

type RedisTopology =
  | { mode: 'single'; host: string; port: number; db: number }
  | { mode: 'cluster'; nodes: RedisEndpoint[] }
  | {
      mode: 'sentinel';
      sentinels: RedisEndpoint[];
      /** The primary's name as the sentinels know it (`sentinel monitor <name> …`). */
      name: string;
      /** Sentinels may have a password of their own; undefined sends none. */
      sentinelPassword: string | undefined;
    };

export interface RedisSettings {
  topology: RedisTopology;
  username: string | undefined;
  password: string | undefined;
  /** TLS to every node (and to the sentinels); `ca` is the PEM to trust instead of the system's CAs. */
  tls: { ca: string | undefined } | undefined;
  /** Where Redis is, for logs: never carries a password. */
  display: string;
}

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A comma-separated `host:port` list (REDIS_CLUSTER_NODES, REDIS_SENTINELS). */
export const endpointList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  )
  .refine((items) => items.length > 0 && items.every((s) => ENDPOINT.test(s) && port(s) <= 65535), {
    message: 'must be a comma-separated list of host:port',
  })
  .transform((items) =>
    items.map((s) => ({ host: ENDPOINT.exec(s)![1]!.replace(/^\[|\]$/g, ''), port: port(s) })),
  );

export const redisUrl = z.string().refine(isRedisUrl, {
  message: 'must be a redis:// or rediss:// URL, with at most a database number as its path',
});

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return /^rediss?:$/.test(url.protocol) && /^\/?\d*$/.test(url.pathname);
  } catch {
    return false;
  }
}

function port(endpoint: string): number {
  return Number(ENDPOINT.exec(endpoint)?.[2]);
}

export interface RedisEnv {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: RedisEndpoint[];
  REDIS_SENTINELS?: RedisEndpoint[];
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_USERNAME?: string;
  REDIS_PASSWORD?: string;
  REDIS_TLS: boolean;
  REDIS_CA_FILE?: string;
}

/**
 * The Redis settings, or problems naming each variable that does not fit with the others. `explicitUrl`
 * tells a REDIS_URL the deployer set from the default one.
 */
export function redisSettings(
  e: RedisEnv,
  explicitUrl: boolean,
  problems: string[],
): RedisSettings | undefined {
  const before = problems.length;
  const modes = [
    explicitUrl && 'REDIS_URL',
    e.REDIS_CLUSTER_NODES && 'REDIS_CLUSTER_NODES',
    e.REDIS_SENTINELS && 'REDIS_SENTINELS',
  ].filter((m): m is string => typeof m === 'string');
  if (modes.length > 1) problems.push(`${modes.join('/')}: set only one of them`);
  if (e.REDIS_SENTINELS && !e.REDIS_SENTINEL_NAME)
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor)');
  if (e.REDIS_SENTINEL_NAME && !e.REDIS_SENTINELS)
    problems.push('REDIS_SENTINEL_NAME: set, but REDIS_SENTINELS is not');
  const ca = readCa(e.REDIS_CA_FILE, problems);
  if (problems.length > before) return undefined;

  const url = new URL(e.REDIS_URL);
  const tls =
    e.REDIS_TLS ||
    ca !== undefined ||
    (!e.REDIS_CLUSTER_NODES && !e.REDIS_SENTINELS && url.protocol === 'rediss:');
  const common = {
    username: e.REDIS_USERNAME ?? (url.username ? decodeURIComponent(url.username) : undefined),
    password: e.REDIS_PASSWORD ?? (url.password ? decodeURIComponent(url.password) : undefined),
    tls: tls ? { ca } : undefined,
  };
  if (e.REDIS_CLUSTER_NODES) {
    const nodes = e.REDIS_CLUSTER_NODES;
    return { ...common, topology: { mode: 'cluster', nodes }, display: `cluster ${list(nodes)}` };
  }
  if (e.REDIS_SENTINELS && e.REDIS_SENTINEL_NAME) {
    const { REDIS_SENTINELS: sentinels, REDIS_SENTINEL_NAME: name } = e;
    return {
      ...common,
      topology: { mode: 'sentinel', sentinels, name, sentinelPassword: e.REDIS_SENTINEL_PASSWORD },
      display: `sentinel ${name}@${list(sentinels)}`,
    };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const single = { host, port: url.port ? Number(url.port) : 6379, db: Number(url.pathname.slice(1) || 0) };
  return {
    ...common,
    topology: { mode: 'single', ...single },
    display: `${url.protocol}//${url.host}/${single.db}`,
  };
}

function readCa(file: string | undefined, problems: string[]): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`REDIS_CA_FILE=${JSON.stringify(file)}: cannot be read (${(err as Error).message})`);
    return undefined;
  }
}

const list = (endpoints: RedisEndpoint[]) => endpoints.map((n) => `${n.host}:${n.port}`).join(',');
