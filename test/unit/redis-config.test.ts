import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../../shared/config/config.js';
import { createRedis } from '../../shared/queue/redis-connection.js';

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  return expect.fail('loadConfig accepted a bad environment');
}

describe('Redis topology settings', () => {
  it('when REDIS_CLUSTER_NODES lists nodes, then a Cluster is configured with them and the password', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'a.example:7000, [::1]:7001', REDIS_PASSWORD: 'pw' });
    expect(config.redis.topology).to.deep.equal({
      mode: 'cluster',
      nodes: [
        { host: 'a.example', port: 7000 },
        { host: '::1', port: 7001 },
      ],
    });
    expect(config.redis.password).to.equal('pw');
    expect(config.redis.display).to.not.include('pw');
  });

  it('when REDIS_SENTINELS and REDIS_SENTINEL_NAME are set, then the primary is found through them', () => {
    const config = loadConfig({
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_NAME: 'faces',
      REDIS_SENTINEL_PASSWORD: 'spw',
    });
    expect(config.redis.topology).to.deep.equal({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'faces',
      sentinelPassword: 'spw',
    });
  });

  it('when REDIS_URL carries credentials, a database and rediss://, then all of them are used', () => {
    const config = loadConfig({ REDIS_URL: 'rediss://user:p%40ss@redis.example:6380/2' });
    expect(config.redis).to.deep.include({ username: 'user', password: 'p@ss', tls: { ca: undefined } });
    expect(config.redis.topology).to.deep.equal({ mode: 'single', host: 'redis.example', port: 6380, db: 2 });
    expect(config.redis.display).to.equal('rediss://redis.example:6380/2');
  });

  it('when REDIS_CA_FILE names a PEM file, then TLS trusts it in every topology', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'facedetect-ca-')), 'ca.pem');
    writeFileSync(file, 'PEM');
    for (const env of [{ REDIS_URL: 'redis://r:6379' }, { REDIS_CLUSTER_NODES: 'r:7000' }]) {
      expect(loadConfig({ ...env, REDIS_CA_FILE: file }).redis.tls).to.deep.equal({ ca: 'PEM' });
    }
    expect(
      loadConfig({ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm', REDIS_TLS: 'true' }).redis.tls,
    ).to.deep.equal({
      ca: undefined,
    });
  });

  it('when the Redis variables are bad or contradict each other, then the error names each variable', () => {
    expect(problems({ REDIS_CLUSTER_NODES: 'nohost' })).to.include('REDIS_CLUSTER_NODES="nohost"');
    expect(problems({ REDIS_SENTINELS: 'h:99999', REDIS_SENTINEL_NAME: 'm' })).to.include(
      'REDIS_SENTINELS="h:99999"',
    );
    expect(problems({ REDIS_URL: 'http://r:6379' })).to.include('REDIS_URL="http://r:6379"');
    expect(problems({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r:7000' })).to.include(
      'REDIS_URL/REDIS_CLUSTER_NODES: set only one of them',
    );
    expect(problems({ REDIS_SENTINELS: 's:26379' })).to.include('REDIS_SENTINEL_NAME: required');
    expect(problems({ REDIS_SENTINEL_NAME: 'm' })).to.include(
      'REDIS_SENTINEL_NAME: set, but REDIS_SENTINELS',
    );
    expect(problems({ REDIS_CA_FILE: '/nonexistent/ca.pem' })).to.include(
      'REDIS_CA_FILE="/nonexistent/ca.pem"',
    );
    expect(problems({ QUEUE_PREFIX: '{x}' })).to.include('QUEUE_PREFIX="{x}": must not contain braces');
  });

  it('when QUEUE_PREFIX is set, then every key starts with it as a hash tag', () => {
    expect(loadConfig({ QUEUE_PREFIX: 'faces-eu' }).queuePrefix).to.equal('{faces-eu}');
  });
});

describe('createRedis', () => {
  const lazy = { lazyConnect: true };

  it('when the topology is a Cluster, then each role gets a Cluster client with its retry rules', () => {
    const { redis } = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:1', REDIS_PASSWORD: 'pw' });
    const gateway = createRedis(redis, 'gateway', 'g', lazy) as Cluster;
    const worker = createRedis(redis, 'worker', 'w', lazy) as Cluster;
    expect(gateway).to.be.instanceOf(Cluster);
    expect(gateway.options.enableOfflineQueue).to.equal(false);
    expect(gateway.options.redisOptions).to.include({ maxRetriesPerRequest: 0, password: 'pw' });
    expect(worker.options.enableOfflineQueue).to.equal(true);
    expect(worker.options.redisOptions).to.include({ maxRetriesPerRequest: null, password: 'pw' });
  });

  it('when the topology is Sentinel, then the client asks the sentinels for the primary, again when a demoted one refuses a write', () => {
    const { redis } = loadConfig({ REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_NAME: 'faces' });
    const client = createRedis(redis, 'gateway', 'g', lazy) as Redis;
    expect(client).to.be.instanceOf(Redis);
    expect(client.options).to.deep.include({
      sentinels: [{ host: '127.0.0.1', port: 1 }],
      name: 'faces',
      enableOfflineQueue: false,
    });
    const reconnect = client.options.reconnectOnError!;
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).to.equal(true);
    expect(reconnect(new Error('WRONGTYPE Operation against a key'))).to.equal(false);
  });
});
