import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServiceProcessOptions {
  /** Short name for the log file and messages. */
  name: string;
  /** Script relative to the repository root, as `npm run start:*` runs it. */
  script: string;
  env: Record<string, string>;
  root: string;
  logDir: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Resolves once the process serves; it rejects early if the process exits. */
  ready: (proc: ServiceProcess) => Promise<boolean>;
  readyTimeoutMs?: number;
}

/**
 * A gateway or worker run as its own process, exactly as deployed (`node dist/...main.js` with env), so its
 * memory is its own and its CPU competes with the load generator only through the OS. Logs go to a file, not
 * through this process, which is also the load generator.
 */
export class ServiceProcess {
  private constructor(
    readonly name: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<number | null>,
  ) {}

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    await mkdir(options.logDir, { recursive: true });
    const logFile = path.join(options.logDir, `${options.name}.log`);
    const fd = openSync(logFile, 'w');
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
      cwd: options.root,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const proc = new ServiceProcess(options.name, logFile, child, exited);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    let gone = false;
    void exited.then(() => (gone = true));
    while (!(await options.ready(proc).catch(() => false))) {
      if (gone) throw new Error(`${options.name} exited at start:\n${proc.logTail()}`);
      if (Date.now() > deadline) {
        await proc.stop();
        throw new Error(`${options.name} not ready in time:\n${proc.logTail()}`);
      }
      await sleep(100);
    }
    return proc;
  }

  get pid(): number {
    return this.child.pid!;
  }

  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  logTail(chars = 3000): string {
    return this.log().slice(-chars);
  }

  /** Peak resident memory so far (VmHWM), in MiB: the whole process, its inference threads included. */
  peakRssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
    return kib / 1024;
  }

  /** SIGTERM, as an orchestrator stops it (graceful: active jobs finish); SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A port free right now on loopback, for a gateway that must be told its port up front. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
