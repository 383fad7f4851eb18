import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { RateLimitRepository } from '../../api/repositories/rate-limit.repository.js';
import { rateLimit } from '../../api/middleware/rate-limit.middleware.js';
import { errorHandler } from '../../api/middleware/error-handler.middleware.js';
import { loadConfig } from '../../shared/config/config.js';
import { createRedis } from '../../shared/queue/redis-connection.js';
import { AnswerLog, expectError, expectNoLeaks, expectStillDetects } from '../support/hostile.js';
import { REDIS_URL, startService, type TestService } from '../support/service.js';

const UNKNOWN_JOB = 'i-abc-00000000-0000-0000-0000-000000000000';
const LIMITED =
  /^Too many requests: at most 3 per minute per API key \(RATE_LIMIT_PER_MIN\); retry after \d+ s$/;

describe('hostile clients: rate limit per API key, shared across gateways', function () {
  const log = new AnswerLog();
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const env = { API_KEYS: 'alpha,beta,gamma', RATE_LIMIT_PER_MIN: '3', QUEUE_PREFIX: prefix };
  let first: TestService;
  let second: TestService;

  before(async () => {
    first = await startService(env);
    second = await startService(env, { worker: false });
  });
  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('when a key makes a 4th request within a minute, then 429 with Retry-After says the limit and when to retry', async () => {
    const poll = () => log.get(`${first.url}/jobs/${UNKNOWN_JOB}`, { 'x-api-key': 'alpha' });
    for (let i = 0; i < 3; i++) expect((await poll()).status).to.equal(404);
    const refused = await poll();
    expectError(refused, 429, LIMITED);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    expect(refused.body.error_msg).to.include(`retry after ${retryAfter} s`);
    const detect = await log.post(`${first.url}/detect`, { img: 'AAAA' }, { 'x-api-key': 'alpha' });
    expectError(detect, 429, LIMITED);
  });

  it('when one key is over its limit, then another key is not affected', async () => {
    const other = await log.get(`${first.url}/jobs/${UNKNOWN_JOB}`, { authorization: 'Bearer beta' });
    expect(other.status).to.equal(404);
  });

  it('when two gateways share Redis, then they share one budget per key', async () => {
    const on = (svc: TestService) => log.get(`${svc.url}/jobs/${UNKNOWN_JOB}`, { 'x-api-key': 'gamma' });
    expect((await on(first)).status).to.equal(404);
    expect((await on(second)).status).to.equal(404);
    expect((await on(first)).status).to.equal(404);
    expectError(await on(second), 429, LIMITED);
  });

  it('when the limiter counts, then Redis holds digests, never the API keys', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`{${prefix}}:ratelimit:*`);
      expect(keys).to.have.length(3);
      for (const key of keys) expect(key).to.match(new RegExp(`^\\{${prefix}\\}:ratelimit:[0-9a-f]{64}$`));
      for (const key of keys) expect(await redis.pttl(key)).to.be.within(1, 60_000);
    } finally {
      redis.disconnect();
    }
  });

  it('when the hostile requests are over, then no answer leaked internals, and detection still works', async () => {
    await expectStillDetects(second, log, { 'x-api-key': 'beta' });
    expectNoLeaks(log);
  });
});

describe('rate limit without API keys', function () {
  const log = new AnswerLog();
  let svc: TestService;
  before(async () => {
    svc = await startService({ RATE_LIMIT_PER_MIN: '2', TRUST_PROXY: 'loopback' }, { worker: false });
  });
  after(async () => svc?.stop());

  it('when authentication is off, then each client address has its own budget (behind a trusted proxy too)', async () => {
    const from = (ip: string) => log.get(`${svc.url}/jobs/${UNKNOWN_JOB}`, { 'x-forwarded-for': ip });
    expect((await from('203.0.113.7')).status).to.equal(404);
    expect((await from('203.0.113.7')).status).to.equal(404);
    const refused = await from('203.0.113.7');
    expectError(refused, 429, /^Too many requests: at most 2 per minute per client address/);
    expect((await from('203.0.113.8')).status).to.equal(404);
  });
});

describe('rate limit when Redis is unreachable', function () {
  it('when Redis cannot count, then the request goes through instead of failing', async () => {
    const redis = createRedis(
      loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }).redis,
      'gateway',
      'facedetect-test-unreachable',
    );
    const server = express()
      .get(
        '/',
        rateLimit(new RateLimitRepository(redis, 'x', { limit: 1 }), pino({ level: 'silent' })),
        (_req, res) => {
          res.json({ ok: true });
        },
      )
      .use(errorHandler(pino({ level: 'silent' }), 1024))
      .listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      for (let i = 0; i < 3; i++) expect((await fetch(url)).status).to.equal(200);
    } finally {
      server.close();
      redis.disconnect();
    }
  });
});
