import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../shared/logging/logger.js';

export interface WorkerSupervisorOptions {
  /** The worker's entry file. */
  entry: string;
  /** The worker's environment: the same configuration as the gateway's. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  /**
   * First wait before a restart, doubled after each quick death.
   * @defaultValue 1000
   */
  backoffMs?: number;
  /** @defaultValue 30000 */
  maxBackoffMs?: number;
  /**
   * A child that ran this long before dying is restarted after the first wait again.
   * @defaultValue 60000
   */
  stableMs?: number;
  /**
   * How long a stopping child may drain its jobs before it is killed.
   * @defaultValue 60000
   */
  stopTimeoutMs?: number;
}

export type WorkerState =
  | { up: true; threads: number; pid: number; restarts: number }
  | { up: false; reason: string; restarts: number };

/** What the worker entry sends its parent once its queues and model threads are running. */
interface WorkerReadyMessage {
  type: 'ready';
  threads: number;
}

/**
 * Runs the worker as a child process of the all-in-one gateway and restarts it with backoff when it dies,
 * so that a file that kills a decoder, or the process, costs a restart of the worker, not the gateway.
 * Node's `fork` gives the child an IPC channel on which it says when it is ready.
 */
export class WorkerSupervisor {
  private child: ChildProcess | undefined;
  private current: WorkerState = { up: false, reason: 'starting', restarts: 0 };
  private restarts = 0;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly options: WorkerSupervisorOptions) {
    this.backoffMs = options.backoffMs ?? 1000;
  }

  get state(): WorkerState {
    return this.current;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the child and resolves once it is ready, or rejects if its first start fails. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.spawn((err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * From now on an exit is expected, not restarted: a Ctrl-C reaches the child (same process group) while
   * the gateway still drains.
   */
  expectExit(): void {
    this.stopping = true;
  }

  /** Asks the child to drain and stop (SIGTERM), killing it if it takes longer than allowed. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs ?? 60_000);
    await exited;
    clearTimeout(kill);
  }

  private spawn(firstStart?: (err?: Error) => void): void {
    const startedAt = Date.now();
    const child = fork(this.options.entry, [], { env: this.options.env, stdio: 'inherit' });
    this.child = child;
    child.on('message', (message: Partial<WorkerReadyMessage>) => {
      if (message.type !== 'ready') return;
      this.current = {
        up: true,
        threads: message.threads ?? 0,
        pid: child.pid ?? 0,
        restarts: this.restarts,
      };
      firstStart?.();
      firstStart = undefined;
    });
    // A fork or kill that fails emits 'error'; unhandled, it would take the gateway down with it.
    child.on('error', (err) => this.options.log.error({ err }, 'worker process error'));
    child.once('exit', (code, signal) => {
      const reason = `the worker process exited (${signal ?? `code ${code}`})`;
      this.current = { up: false, reason, restarts: this.restarts };
      if (this.stopping) return;
      if (firstStart) {
        firstStart(new Error(`${reason} before it was ready; see its log above`));
        return;
      }
      if (Date.now() - startedAt >= (this.options.stableMs ?? 60_000))
        this.backoffMs = this.options.backoffMs ?? 1000;
      this.options.log.error(
        { code, signal, restartInMs: this.backoffMs },
        'worker process died; restarting it',
      );
      this.timer = setTimeout(() => {
        this.restarts += 1;
        this.spawn();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    });
  }
}
