import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { deleteKeys, REDIS_URL } from '../support/service.js';
import { image } from '../support/fixtures.js';
import { buildImage, makeBuildContext } from '../support/image-build.js';
import { containerLogs, podman, podmanOk, waitFor } from '../support/podman.js';

/**
 * The project's Dockerfile built and run with podman (`npm run test:image`, outside `npm test`: it takes
 * minutes and needs root). scripts/image-test/prepare-base.sh, run first by npm, installs podman and
 * puts a stand-in for the node base images in place where no registry can be reached.
 */
const IMAGE = 'localhost/facedetect:image-test';
const BUILD_LOG = path.join('test-artifacts', 'image-build.log');
const BUILD_TIMEOUT_MS = 30 * 60_000;
// podman's default, as Docker's: SIGTERM, then SIGKILL this many seconds later.
const STOP_TIMEOUT_S = 10;
const NODE_UID = '1000';

/** What the image holds, as its own node sees it (printed as JSON by INSPECT). */
interface Contents {
  user: string;
  natives: string[];
  devDependency: boolean;
  models: Record<string, string>;
  ffmpeg: string;
  ffprobe: string;
  codeWritable: boolean;
  dataWritable: boolean;
}

const INSPECT = `
const fs = require('node:fs'), cp = require('node:child_process'), crypto = require('node:crypto');
const ort = 'node_modules/onnxruntime-node/bin';
const below = (dir) => fs.readdirSync(dir).map((name) => dir + '/' + name);
const writable = (file) => { try { fs.accessSync(file, fs.constants.W_OK); return true; } catch { return false; } };
const firstLine = (bin) => cp.execFileSync(bin, ['-version'], { encoding: 'utf8' }).split('\\n')[0];
console.log(JSON.stringify({
  user: require('node:os').userInfo().username,
  natives: below(ort).flatMap(below).flatMap(below).map((dir) => dir.slice(ort.length + 1)),
  devDependency: fs.existsSync('node_modules/typescript'),
  models: Object.fromEntries(fs.readdirSync('models').filter((f) => f.endsWith('.onnx')).map((f) =>
    [f, crypto.createHash('sha256').update(fs.readFileSync('models/' + f)).digest('hex')])),
  ffmpeg: firstLine(process.env.FFMPEG_PATH),
  ffprobe: firstLine(process.env.FFPROBE_PATH),
  codeWritable: writable('dist/api/main.js') || writable('dist'),
  dataWritable: writable('data'),
}));`;

async function startContainer(name: string, role: 'api' | 'worker', env: Record<string, string>) {
  const envArgs = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  const command = ['node', `dist/${role}/main.js`];
  await podmanOk(['run', '--detach', '--name', name, '--network', 'host', ...envArgs, IMAGE, ...command]);
}

/** Waits for a container's log line with message `msg`, failing early when the container has exited. */
function logLine(name: string, msg: string, timeoutMs: number) {
  return waitFor(`"${msg}" from ${name}`, timeoutMs, async () => {
    const logs = await containerLogs(name);
    const line = logs.find((l) => l.msg === msg);
    if (line) return line;
    const state = (await podmanOk(['inspect', '--format', '{{.State.Status}}', name])).trim();
    if (state === 'exited') throw new Error(`${name} exited:\n${(await podman(['logs', name])).stderr}`);
    return undefined;
  });
}

describe('the Docker image, built from the Dockerfile and run with podman', function () {
  this.timeout(120_000);

  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS + 60_000);
    const context = await makeBuildContext();
    try {
      const { seconds } = await buildImage(context, IMAGE, BUILD_LOG, BUILD_TIMEOUT_MS);
      const size = await podmanOk(['image', 'inspect', '--format', '{{.Size}}', IMAGE]);
      console.log(`      built in ${seconds.toFixed(0)} s, ${(Number(size) / 1e6).toFixed(0)} MB`);
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });

  it('when it is built, then it holds production dependencies, one native onnxruntime, the pinned models and Debian ffmpeg', async () => {
    const run = ['run', '--rm', '--network', 'none', IMAGE, 'node', '-e', INSPECT];
    const got = JSON.parse(await podmanOk(run)) as Contents;
    const manifest = JSON.parse(await readFile('models/manifest.json', 'utf8')) as {
      models: { file: string; sha256: string }[];
    };
    expect(got.user).to.equal('node');
    expect(got.natives).to.have.lengthOf(1);
    expect(got.natives[0]).to.match(new RegExp(`^napi-v\\d+/linux/${process.arch}$`));
    expect(got.devDependency, 'typescript (a dev dependency) in node_modules').to.equal(false);
    expect(got.models).to.deep.equal(Object.fromEntries(manifest.models.map((m) => [m.file, m.sha256])));
    // Debian's builds name their package version (5.1.x-0+deb12u1); the npm-bundled static ones do not.
    expect(got.ffmpeg).to.match(/^ffmpeg version \S*deb12/);
    expect(got.ffprobe).to.match(/^ffprobe version \S*deb12/);
    expect(got.codeWritable, 'the app user can rewrite its code').to.equal(false);
    expect(got.dataWritable, 'the app user can write data/').to.equal(true);
  });

  describe('a gateway and a worker container on the host network, against the test Redis', () => {
    const prefix = `image-${randomUUID().slice(0, 8)}`;
    const gateway = `facedetect-${prefix}-gateway`;
    const worker = `facedetect-${prefix}-worker`;
    // Loopback only and ports of the kernel's choosing: the host's network is shared with other work.
    const env = {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      HOST: '127.0.0.1',
      PORT: '0',
      GATEWAY_METRICS_PORT: '0',
      WORKER_METRICS_PORT: '0',
      INFERENCE_THREADS: '1',
      LOG_LEVEL: 'info',
    };
    let base = '';

    before(async () => {
      await startContainer(worker, 'worker', env);
      await startContainer(gateway, 'api', env);
      const listening = await logLine(gateway, 'gateway listening', 60_000);
      base = `http://127.0.0.1:${Number(listening.port)}`;
      await logLine(worker, 'worker ready', 90_000);
      await waitFor('the gateway to be ready', 60_000, async () => {
        const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
        return res?.ok ? true : undefined;
      });
    });

    after(async () => {
      await podman(['rm', '--force', '--time', '0', gateway, worker]);
      await deleteKeys(`{${prefix}}`);
    });

    it('when two_people.jpg is posted to /detect, then the answer has its two faces', async () => {
      const res = await fetch(`${base}/detect`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: await readFile(image('two_people.jpg')),
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await res.json()) as {
        error_code: number;
        faces_obj: Record<string, { region: unknown[] }>;
      };
      expect(res.status, JSON.stringify(body)).to.equal(200);
      expect(body.error_code).to.equal(0);
      expect(body.faces_obj['0']?.region).to.have.lengthOf(2);
    });

    it('when they run, then every process in each is the node user (uid 1000), with Debian ffmpeg named', async () => {
      for (const name of [gateway, worker]) {
        expect((await podmanOk(['exec', name, 'id', '-u'])).trim(), `id -u in ${name}`).to.equal(NODE_UID);
        // podman top reads the processes from the host: what actually runs, not the image's setting.
        const users = (await podmanOk(['top', name, 'user'])).trim().split('\n').slice(1);
        expect(users, `process users in ${name}`).to.not.be.empty;
        expect(new Set(users.map((u) => u.trim())), `process users in ${name}`).to.deep.equal(
          new Set(['node']),
        );
      }
      const ready = await logLine(worker, 'worker ready', 1000);
      expect(ready.binaries).to.deep.include({ ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe' });
    });

    // Last: it stops the containers the tests above use.
    it('when each is stopped (SIGTERM), then it drains and exits 0 before the SIGKILL', async () => {
      for (const [name, role] of [
        [gateway, 'gateway'],
        [worker, 'worker'],
      ] as const) {
        const started = performance.now();
        await podmanOk(['stop', '--time', String(STOP_TIMEOUT_S), name], { timeoutMs: 30_000 });
        const seconds = (performance.now() - started) / 1000;
        const code = (await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
        expect(code, `${name}'s exit code (137: killed)`).to.equal('0');
        expect(seconds, `${name}'s stop time`).to.be.below(STOP_TIMEOUT_S);
        const stopping = (await containerLogs(name)).find((l) => l.msg === `${role} stopping`);
        expect(stopping?.signal, `${name}'s "${role} stopping" line`).to.equal('SIGTERM');
      }
    });
  });
});
