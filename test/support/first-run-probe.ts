import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * Runs inside a network namespace of its own (`unshare -n`, see first-run.test.ts), where nothing listens
 * on 127.0.0.1:6379: it runs one entry (`standalone`, `api` or `worker`) as a new user would for
 * `seconds`, or until it has detected `photo` when one is given. It writes what it saw as JSON to a file.
 */
const [entryName = '', seconds = '5', resultFile = '', photo = ''] = process.argv.slice(2);
const entry = fileURLToPath(new URL(`../../${entryName}/main.js`, import.meta.url));

interface Probe {
  code: number | null;
  logs: string[];
  stderr: string;
  children: string[];
  detected?: { status: number; faces: number };
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [entry], {
    // FIRST_RUN_PATH stands for a machine whose PATH lacks redis-server; the probe itself needs sh and ip.
    env: {
      ...process.env,
      PATH: process.env.FIRST_RUN_PATH ?? process.env.PATH,
      PORT: '3000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const probe: Probe = { code: null, logs: [], stderr: '', children: [] };
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (probe.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + Number(seconds) * 1000;
  while (Date.now() < deadline && child.exitCode === null && !probe.detected) {
    await new Promise((r) => setTimeout(r, 100));
    if (photo && !probe.detected && (await ready())) probe.detected = await detect(photo);
  }
  probe.children = await childrenOf(child.pid ?? 0);
  if (child.exitCode === null) child.kill('SIGTERM');
  probe.code = await exited;
  probe.logs = out.split('\n').filter((line) => line.length > 0);
  await writeFile(resultFile, JSON.stringify(probe));
}

async function ready(): Promise<boolean> {
  return fetch('http://127.0.0.1:3000/readyz').then(
    (r) => r.status === 200,
    () => false,
  );
}

async function detect(file: string): Promise<{ status: number; faces: number }> {
  const answer = await fetch('http://127.0.0.1:3000/detect', {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: await readFile(file),
  });
  const body = (await answer.json()) as { faces_obj?: Record<string, { region: unknown[] }> };
  return { status: answer.status, faces: body.faces_obj?.['0']?.region.length ?? 0 };
}

/** Command names of the child processes of `pid`, from /proc. */
async function childrenOf(pid: number): Promise<string[]> {
  const tasks = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const pids = tasks.split(' ').filter((p) => p.length > 0);
  return Promise.all(pids.map((p) => readFile(`/proc/${p}/comm`, 'utf8').then((c) => c.trim())));
}

await main();
