import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { podman } from './podman.js';

// The tests run from dist/test/support; the Dockerfile and the tree it builds stay at the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  models: { file: string }[];
}

/**
 * A scratch copy of the tree to build from: the files git tracks plus the untracked ones it does not
 * ignore (so an uncommitted change is built too), as `docker build .` in a clean checkout would see it.
 *
 * The models go into the copy's models/ as well, where the Dockerfile takes them from. That is the
 * Dockerfile's route for builders that cannot reach the models' upstream (raw.githubusercontent.com),
 * which CI cannot; they are the files `npm run models` checked, and the build checks them again against
 * the SHA-256 in models/manifest.json.
 */
export async function makeBuildContext(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'facedetect-image-'));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  // A tracked file deleted in the working tree is still listed; the build should not see it.
  const files = listed.split('\0').filter((file) => file !== '' && existsSync(path.join(ROOT, file)));
  for (const file of files) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await copyFile(path.join(ROOT, file), path.join(dir, file));
  }
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'models', 'manifest.json'), 'utf8')) as Manifest;
  for (const { file } of manifest.models) {
    const from = path.join(ROOT, 'models', file);
    if (!existsSync(from)) throw new Error(`${from} is missing: run npm run models first`);
    await copyFile(from, path.join(dir, 'models', file));
  }
  return dir;
}

/**
 * Builds the Dockerfile in `context` as `tag` with podman, on the host's network (the build's npm ci and
 * apt-get reach their registries as this machine does) and never pulling a base image: the local
 * node:20-bookworm(-slim), real or prepare-base.sh's stand-in, is used. The build's output goes to `log`.
 *
 * Each run builds from nothing and replaces the last run's image, which stays until then for a look
 * after a failure: with the layer cache, every run that changed the code would leave another 1 GB of
 * untagged layers behind on the machine.
 */
export async function buildImage(context: string, tag: string, log: string, timeoutMs: number) {
  await podman(['rmi', '--ignore', tag]);
  const args = ['build', '--pull=never', '--network', 'host', '--layers=false', '--tag', tag, context];
  const started = performance.now();
  const run = await podman(args, { timeoutMs, nice: true });
  await mkdir(path.dirname(log), { recursive: true });
  await writeFile(log, `${run.stdout}${run.stderr}`);
  if (run.code !== 0) {
    const tail = `${run.stdout}${run.stderr}`.slice(-6000);
    throw new Error(`podman build exited with ${run.code} (whole output in ${log}):\n${tail}`);
  }
  return { seconds: (performance.now() - started) / 1000 };
}
