import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { FirstRunProbe } from './first-run-result.js';
import { fileURLToPath } from 'node:url';

/**
 * Runs inside a network namespace of its own (`unshare -n`, see first-run.test.ts), where nothing listens
 * on 127.0.0.1:6379: it runs one entry (`standalone`, `api` or `worker`) as a new user would for
 * `seconds`, or until it has detected `photo` when one is given. It writes what it saw as JSON to a file.
 */
const [entryName = '', seconds = '5', resultFile = '', photo = ''] = process.argv.slice(2);
const entry = fileURLToPath(new URL(`../../${entryName}/main.js`, import.meta.url));

async function main(): Promise<void> {
  // Detached, so that it leads a process group as a shell's job does, and can be stopped as Ctrl-C does.
  const child = spawn(process.execPath, [entry], {
    detached: true,
    // FIRST_RUN_PATH stands for a machine whose PATH lacks redis-server; the probe itself needs sh and ip.
    env: {
      ...process.env,
      PATH: process.env.FIRST_RUN_PATH ?? process.env.PATH,
      PORT: '3000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const probe: FirstRunProbe = { code: null, logs: [], stderr: '', children: [] };
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (probe.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + Number(seconds) * 1000;
  while (Date.now() < deadline && child.exitCode === null && !probe.detected) {
    await new Promise((r) => setTimeout(r, 100));
    if (photo && !probe.detected && (await ready())) {
      probe.detected = await detect(photo);
      const port = /"redis":"redis:\/\/127\.0\.0\.1:(\d+)"/.exec(out)?.[1];
      if (port) probe.unauthenticated = await ping(Number(port));
    }
  }
  probe.children = await childrenOf(child.pid ?? 0);
  // Ctrl-C: SIGINT to the whole foreground group.
  if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGINT');
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

async function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.once('data', (reply) => {
      socket.destroy();
      resolve(reply.toString().trim());
    });
    socket.once('error', (err) => resolve(`error ${err.message}`));
  });
}

/** Command names of the child processes of `pid`, from /proc. */
async function childrenOf(pid: number): Promise<string[]> {
  const tasks = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const pids = tasks.split(' ').filter((p) => p.length > 0);
  return Promise.all(pids.map((p) => readFile(`/proc/${p}/comm`, 'utf8').then((c) => c.trim())));
}

await main();
