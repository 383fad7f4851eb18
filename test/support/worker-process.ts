import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestService } from './service.js';

// The tests run from dist/test/support; the worker's entry point is compiled beside them.
const WORKER_MAIN = fileURLToPath(new URL('../../worker/main.js', import.meta.url));

export type LogLine = Record<string, unknown>;

export interface WorkerProcess {
  name: string;
  pid: number;
  /** Every JSON line the worker wrote to stdout so far, in order. */
  logs: LogLine[];
  /** Resolves with the first log line (already written or still to come) that matches. */
  waitForLog(matches: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the process if it still runs and waits for it to exit: for after hooks. */
  stop(): Promise<void>;
}

/** The settings a worker must share with its gateway: where Redis is, and the queue prefix. */
function deploymentEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => name.startsWith('REDIS_') || name === 'QUEUE_PREFIX'),
  );
}

/**
 * Runs `node dist/worker/main.js` as a real child process against a test's Redis prefix and data folder,
 * with one inference thread and info logs, and resolves once it logs 'worker ready'.
 */
export async function startWorkerProcess(
  service: Pick<TestService, 'config' | 'env'>,
  name: string,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  const { config } = service;
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      ...deploymentEnv(service.env),
      DATA_DIR: config.storage.dataDir,
      MODELS_DIR: path.dirname(config.detector.modelPath),
      HOST: '127.0.0.1',
      WORKER_METRICS_PORT: '0',
      ALLOW_PRIVATE_URLS: 'true',
      INFERENCE_THREADS: '1',
      LOG_LEVEL: 'info',
      WORKER_NAME: name,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const other: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      logs.push(JSON.parse(text) as LogLine);
    } catch {
      other.push(text);
    }
    for (const listener of listeners) listener();
  });
  createInterface({ input: child.stderr }).on('line', (text) => other.push(text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': it comes after the last of the output.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let running = true;
  void exited.then(() => {
    running = false;
    for (const listener of listeners) listener();
  });

  const output = () => [...logs.map((l) => JSON.stringify(l)), ...other].join('\n');
  const waitForLog = (matches: (line: LogLine) => boolean, timeoutMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(matches);
        if (!found && running) return;
        listeners.delete(check);
        clearTimeout(timer);
        if (found) resolve(found);
        else reject(new Error(`worker ${name} exited before the awaited log line:\n${output()}`));
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(`worker ${name} did not write the awaited log line in ${timeoutMs} ms:\n${output()}`),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  const handle: WorkerProcess = {
    name,
    pid: child.pid!,
    logs,
    waitForLog,
    kill: (signal) => child.kill(signal),
    exited,
    async stop() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitForLog((line) => line.msg === 'worker ready');
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
