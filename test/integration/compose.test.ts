import { envSchema } from '../../shared/config/env-schema.js';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The tests run from dist/test/integration; the files they check stay at the repository root.
const ROOT_URL = new URL('../../../', import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);
const read = (file: string) => readFileSync(new URL(file, ROOT_URL), 'utf8');

const LONG_RUNNING = ['redis', 'minio', 'api', 'worker', 'prometheus'];
const BUCKET_INIT = 'minio-init';

/**
 * Documented ahead of the branches that add them to shared/config/config.ts (metrics, hardening, video).
 * Once config.ts reads one, its entry here is redundant and can go.
 */
const ANNOUNCED = new Set([
  'WORKER_METRICS_PORT',
  'FFMPEG_PATH',
  'FFPROBE_PATH',
  'FFMPEG_TIMEOUT_MS',
  'WEBHOOK_SECRET',
]);

/** `out` is stdout alone, for parsing; `log` adds stderr, for failure messages. */
function compose(...args: string[]): { ok: boolean; missing: boolean; out: string; log: string } {
  const run = spawnSync('docker-compose', ['-f', 'docker-compose.yml', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const missing = run.error !== undefined && 'code' in run.error && run.error.code === 'ENOENT';
  const out = run.stdout ?? '';
  return { ok: run.status === 0, missing, out, log: `${out}${run.stderr ?? ''}` };
}

/**
 * `docker-compose config` prints the resolved file as block YAML with two-space indents (and there is no
 * YAML parser among our dependencies): each service's text is the lines below its `  name:` line, and
 * its keys are those indented four spaces.
 */
function servicesOf(config: string): Map<string, string[]> {
  const services = new Map<string, string[]>();
  let inServices = false;
  let current: string[] | undefined;
  for (const line of config.split('\n')) {
    if (/^\S/.test(line)) {
      inServices = line.startsWith('services:');
      current = undefined;
      continue;
    }
    if (!inServices) continue;
    const name = /^ {2}([\w.-]+):\s*$/.exec(line);
    if (name) {
      current = [];
      services.set(name[1]!, current);
    } else if (current) {
      current.push(line);
    }
  }
  return services;
}

function keysOf(lines: string[]): string[] {
  return lines.flatMap((l) => /^ {4}(\w+):/.exec(l)?.[1] ?? []);
}

/**
 * The lines of a service's top-level key (its nested block), without the key line itself. Sequence items
 * may sit at the key's own indent (`command:` then `    - node`), so only the next key ends the block.
 */
function blockOf(lines: string[], key: string): string[] {
  const start = lines.findIndex((l) => l.startsWith(`    ${key}:`));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^ {0,4}[^\s-]/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** `condition` of each `depends_on` entry; the short list form means service_started. */
function dependencies(lines: string[]): Map<string, string> {
  const deps = new Map<string, string>();
  let current: string | undefined;
  for (const line of blockOf(lines, 'depends_on')) {
    const listed = /^ {4,6}- ([\w.-]+)\s*$/.exec(line);
    const named = /^ {6}([\w.-]+):\s*$/.exec(line);
    const condition = /^ {8}condition: ['"]?(\w+)/.exec(line);
    if (listed) deps.set(listed[1]!, 'service_started');
    else if (named) deps.set((current = named[1]!), 'service_started');
    else if (condition && current) deps.set(current, condition[1]!);
  }
  return deps;
}

describe('docker-compose.yml', function () {
  let services: Map<string, string[]>;

  before(function () {
    const version = compose('version');
    if (version.missing) {
      console.warn(
        '    docker-compose is not installed, so docker-compose.yml is not checked here ' +
          '(apt-get install -y docker-compose; .ci/run installs it)',
      );
      this.skip();
    }
    const config = compose('config');
    expect(config.ok, `docker-compose config failed:\n${config.log}`).to.equal(true);
    services = servicesOf(config.out);
  });

  it('when the file is resolved, then it names the stores, the bucket init, the app and Prometheus', () => {
    const listed = compose('config', '--services');
    expect(listed.ok, listed.log).to.equal(true);
    expect(listed.out.split('\n').filter(Boolean)).to.have.members([...LONG_RUNNING, BUCKET_INIT]);
    expect([...services.keys()]).to.have.members([...LONG_RUNNING, BUCKET_INIT]);
  });

  it('when workers are scaled, then nothing pins them to one container or one host port', () => {
    const worker = keysOf(services.get('worker')!);
    expect(worker).to.not.include('ports');
    expect(worker).to.not.include('container_name');
  });

  it('when a service runs for good, then it has a healthcheck', () => {
    for (const name of LONG_RUNNING) {
      expect(keysOf(services.get(name)!), name).to.include('healthcheck');
    }
  });

  it('when the app starts, then Redis is healthy and the bucket exists first', () => {
    for (const name of ['api', 'worker']) {
      const deps = dependencies(services.get(name)!);
      expect(deps.get('redis'), `${name} → redis`).to.equal('service_healthy');
      expect(deps.get(BUCKET_INIT), `${name} → ${BUCKET_INIT}`).to.equal('service_completed_successfully');
    }
    expect(dependencies(services.get(BUCKET_INIT)!).get('minio')).to.equal('service_healthy');
  });

  it('when Redis holds the queues, then it keeps them on disk and never evicts them', () => {
    const command = blockOf(services.get('redis')!, 'command').join('\n');
    expect(command).to.match(/--appendonly\s*\n\s*- ['"]?yes/);
    expect(command).to.match(/--maxmemory-policy\s*\n\s*- ['"]?noeviction/);
  });

  it('when Prometheus scrapes, then it resolves every worker replica on the port the workers serve, and the gateway on its unpublished metrics port', () => {
    const prometheus = read('deploy/prometheus/prometheus.yml');
    expect(prometheus).to.match(
      /dns_sd_configs:\s*\n\s*- names: \['worker'\]\s*\n\s*type: A\s*\n\s*port: 9100/,
    );
    // The gateway is scraped on its metrics port, which is not published; the public port has no metrics.
    expect(prometheus).to.match(/targets: \['api:9101'\]/);
    const env = blockOf(services.get('worker')!, 'environment').join('\n');
    expect(env).to.match(/WORKER_METRICS_PORT: ['"]?9100\b/);
    const api = blockOf(services.get('api')!, 'environment').join('\n');
    expect(api).to.match(/GATEWAY_METRICS_PORT: ['"]?9101\b/);
    expect(blockOf(services.get('api')!, 'ports').join('\n')).to.not.include('9101');
  });
});

describe('README Operations table', () => {
  const configVars = Object.keys(envSchema.shape);
  const operations = /^## Operations\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(read('README.md'))?.[1] ?? '';
  const documented = [...operations.matchAll(/^\| `([A-Z][A-Z0-9_]*)` +\|/gm)].map((m) => m[1]!);

  it('when the environment schema is read, then its variables are found', () => {
    expect(configVars).to.include.members(['PORT', 'REDIS_URL', 'S3_BUCKET', 'DATA_DIR']);
  });

  it('when the service reads a variable, then the Operations table documents it', () => {
    expect(documented, 'README.md has no "## Operations" table').to.not.be.empty;
    expect(configVars.filter((v) => !documented.includes(v))).to.deep.equal([]);
  });

  it('when the Operations table documents a variable, then the service reads it', () => {
    const stale = documented.filter((v) => !configVars.includes(v) && !ANNOUNCED.has(v));
    expect(stale).to.deep.equal([]);
  });
});
