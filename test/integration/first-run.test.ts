import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { REDIS_MISSING } from '../../standalone/main.js';
import type { FirstRunProbe } from '../support/first-run-result.js';
import { image } from '../support/fixtures.js';

const PROBE = fileURLToPath(new URL('../support/first-run-probe.js', import.meta.url));

interface Run {
  probe: FirstRunProbe;
  ms: number;
  logs: Record<string, unknown>[];
}

/**
 * A new user's machine, where nothing answers on Redis's default address: each run gets a network
 * namespace of its own (as root, like CI), so the test Redis on 6379 stays up for the other tests.
 */
function firstRun(entry: string, env: Record<string, string>, seconds: number, photo = ''): Run {
  const out = path.join(os.tmpdir(), `first-run-${process.pid}-${Date.now()}.json`);
  const started = performance.now();
  const run = spawnSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      'ip link set lo up && exec "$0" "$@"',
      process.execPath,
      PROBE,
      entry,
      String(seconds),
      out,
      photo,
    ],
    { env: { ...cleanEnv(), ...env }, encoding: 'utf8', timeout: (seconds + 30) * 1000 },
  );
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`unshare failed (${run.status}): ${run.stderr}`);
  return readProbe(out, ms);
}

function readProbe(file: string, ms: number): Run {
  const text = spawnSync('cat', [file], { encoding: 'utf8' }).stdout;
  spawnSync('rm', ['-f', file]);
  const probe = JSON.parse(text) as FirstRunProbe;
  return { probe, ms, logs: probe.logs.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** The machine's environment without anything that names a Redis. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('REDIS_'),
    ),
  );
}

const redisLines = (logs: Record<string, unknown>[]) =>
  logs.filter((line) => typeof line.msg === 'string' && line.msg.includes('Redis'));

describe('the first run on a machine without a running Redis', function () {
  this.timeout(90_000);
  let dataDir: string;
  const quiet = { WORKER_METRICS_PORT: '0', GATEWAY_METRICS_PORT: '0', INFERENCE_THREADS: '1' };

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-first-run-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('when redis-server is installed, then npm start runs a private one, announced in one line, serves, and stops it with the service', async () => {
    // A private Redis an earlier run left behind (killed with SIGKILL) still holds the data folder.
    await mkdir(path.join(dataDir, 'redis'), { recursive: true });
    const pidFile = path.join(dataDir, 'redis', 'redis.pid');
    const leftover = spawn('redis-server', ['--port', '0', '--pidfile', pidFile, '--dir', os.tmpdir()], {
      stdio: 'ignore',
    });
    const leftoverExit = new Promise((resolve) => leftover.once('exit', resolve));
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const { probe, logs } = firstRun(
      'standalone',
      { ...quiet, DATA_DIR: dataDir },
      60,
      image('two_people.jpg'),
    );
    expect(probe.detected, probe.stderr).to.deep.equal({ status: 200, faces: 2 });
    expect(probe.children).to.include('redis-server');
    expect(probe.unauthenticated, 'the private Redis takes no command without its password').to.match(
      /^-NOAUTH/,
    );
    expect(
      await Promise.race([leftoverExit.then(() => 'stopped'), sleep(5000).then(() => 'running')]),
    ).to.equal('stopped');
    const announced = logs.filter((line) => String(line.msg).includes('a private one runs at'));
    expect(announced, JSON.stringify(redisLines(logs))).to.have.length(1);
    expect(String(announced[0]?.msg)).to.include('REDIS_URL');
    expect(announced[0]?.dir).to.equal(path.join(dataDir, 'redis'));
    // Stopped with the service: Ctrl-C (SIGINT to the job's group) ended it, its Redis last and cleanly.
    expect(probe.code).to.equal(0);
    expect(logs.some((line) => String(line.msg).includes('The private Redis exited'))).to.equal(false);
    expect(
      await readFile(path.join(dataDir, 'redis', 'appendonlydir', 'appendonly.aof.manifest'), 'utf8'),
    ).to.include('appendonly');
  });

  it('when redis-server is not installed, then npm start exits non-zero within 5 s with one line naming what is missing, how to install it, and REDIS_URL', () => {
    const { probe, ms } = firstRun(
      'standalone',
      { ...quiet, DATA_DIR: dataDir, FIRST_RUN_PATH: '/nonexistent' },
      20,
    );
    expect(probe.code).to.equal(1);
    expect(ms).to.be.below(5000 + 1500); // the namespace and node's own start, on a loaded host
    expect(probe.stderr.trim().split('\n')).to.deep.equal([`facedetect failed to start: ${REDIS_MISSING}`]);
    for (const part of ['redis-server', 'apt-get install -y redis-server', 'REDIS_URL'])
      expect(REDIS_MISSING).to.include(part);
    expect(probe.logs.join('\n')).to.not.include('ECONNREFUSED');
  });

  for (const entry of ['api', 'worker']) {
    it(`when start:${entry} runs with Redis unreachable, then it starts no Redis and says so once per retry interval, without stack traces`, () => {
      const seconds = 7;
      const { probe, logs } = firstRun(entry, { ...quiet, DATA_DIR: dataDir }, seconds);
      expect(probe.children).to.not.include('redis-server');
      const lines = redisLines(logs);
      expect(lines.length, JSON.stringify(lines)).to.be.within(1, Math.ceil(seconds / 2) + 1);
      for (const line of lines) {
        expect(line.msg).to.match(/^Redis at redis:\/\/127\.0\.0\.1:6379\/0 is unreachable \(ECONNREFUSED\)/);
        expect(line).to.not.have.property('err');
      }
      expect(logs.filter((line) => line.level !== 30 && !lines.includes(line)).map((l) => l.msg)).to.satisfy(
        (others: unknown[]) => others.every((msg) => String(msg).startsWith('API_KEYS is not set')),
      );
    });
  }
});
