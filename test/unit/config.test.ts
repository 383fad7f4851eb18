import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../shared/config/config.js';

describe('loadConfig', () => {
  it('when the environment is empty, then the documented defaults apply', () => {
    const config = loadConfig({});
    expect(config.port).to.equal(3000);
    expect(config.redis.topology).to.deep.equal({ mode: 'single', host: '127.0.0.1', port: 6379, db: 0 });
    expect(config.queuePrefix).to.equal('{facedetect}');
    expect(config.jobs.syncTimeoutMs).to.equal(30_000);
    expect(config.detector.maxSide).to.equal(1280);
    expect(config.apiKeys).to.equal(undefined);
  });

  it('when the hardening limits are unset, then the README defaults apply, and a set value wins', () => {
    expect(loadConfig({}).limits).to.include({
      downloadStallTimeoutMs: 10_000,
      maxQueueDepth: 1000,
      rateLimitPerMin: 600,
    });
    const set = loadConfig({
      DOWNLOAD_STALL_TIMEOUT_MS: '500',
      MAX_QUEUE_DEPTH: '7',
      RATE_LIMIT_PER_MIN: '3',
    });
    expect(set.limits).to.include({ downloadStallTimeoutMs: 500, maxQueueDepth: 7, rateLimitPerMin: 3 });
  });

  it('when a hardening limit is zero, then the error names it', () => {
    expect(() => loadConfig({ RATE_LIMIT_PER_MIN: '0' })).to.throw(ConfigError, 'RATE_LIMIT_PER_MIN="0"');
    expect(() => loadConfig({ MAX_QUEUE_DEPTH: '0' })).to.throw(ConfigError, 'MAX_QUEUE_DEPTH="0"');
  });

  it('when API_KEYS lists keys with spaces, then each key is trimmed', () => {
    expect(loadConfig({ API_KEYS: ' a, b ,,c' }).apiKeys).to.deep.equal(['a', 'b', 'c']);
  });

  it('when several variables are bad, then the error names every one of them', () => {
    try {
      loadConfig({ PORT: 'eighty', SYNC_TIMEOUT_MS: '-1', REDIS_URL: 'nope' });
      expect.fail('loadConfig accepted a bad environment');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const text = (err as ConfigError).message;
      expect(text).to.include('PORT="eighty"');
      expect(text).to.include('SYNC_TIMEOUT_MS="-1"');
      expect(text).to.include('REDIS_URL="nope"');
    }
  });
});
