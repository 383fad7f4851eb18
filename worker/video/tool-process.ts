import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { AppError } from '../../shared/errors/app-error.js';
import { MediaTimeoutError } from '../../shared/errors/errors.js';
import { explainExit, unsupported, VIDEO_MESSAGES } from './video-messages.js';

export interface ToolProcessOptions {
  /** A child that keeps us waiting this long for its next output is killed as hung. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
  /** Bytes written to the child's stdin, which is then closed; without them stdin is not opened. */
  stdin?: Buffer;
  /** The refusal of a picture above ffmpeg's `max_pixels`. Default: a video's (MAX_VIDEO_PIXELS). */
  tooLarge?: (width: number, height: number, maxPixels: number) => AppError;
}

const STDERR_TAIL_CHARS = 4000;

/**
 * The static ffmpeg/ffprobe builds of the installer packages link glibc statically; when a demuxer asks
 * for a character set conversion (MPEG-TS service names), that glibc loads the system's gconv modules,
 * built for another glibc, and the process dies with SIGSEGV. A search path that holds no module makes the
 * conversion fail cleanly instead. Distribution builds only lose the conversion of names we never read.
 */
const CHILD_ENV: NodeJS.ProcessEnv = { ...process.env, GCONV_PATH: '/nonexistent/facedetect-no-gconv' };
// ffmpeg honours http_proxy for its reads of the range proxy on loopback, which an egress proxy cannot reach.
for (const name of Object.keys(CHILD_ENV)) if (/^(https?|all|no)_proxy$/i.test(name)) delete CHILD_ENV[name];

/**
 * One ffmpeg or ffprobe child: stdout as chunks under an idle timeout, the exit explained as a typed error,
 * and a kill that always reaps it. The timeout runs only while the reader waits, so time the consumer spends
 * elsewhere is not counted against the child.
 */
export class ToolProcess {
  private readonly proc: ChildProcessWithoutNullStreams;
  private stderr = '';
  private stoppedFor: 'timeout' | 'abort' | 'close' | 'limit' | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly exited: Promise<{
    code: number | null;
    killedBy: NodeJS.Signals | null;
    spawnError?: Error;
  }>;
  private readonly onAbort = () => this.stop('abort');

  constructor(
    private readonly tool: string,
    binary: string,
    args: string[],
    private readonly options: ToolProcessOptions,
  ) {
    options.signal?.throwIfAborted();
    const stdin = options.stdin ? 'pipe' : 'ignore';
    this.proc = spawn(binary, args, { stdio: [stdin, 'pipe', 'pipe'], env: CHILD_ENV }) as never;
    if (options.stdin) {
      // A child that stops reading early (it refused the input) closes the pipe; its exit explains why.
      this.proc.stdin.on('error', () => {});
      this.proc.stdin.end(options.stdin);
    }
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL_CHARS);
    });
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.exited = new Promise<{ code: number | null; killedBy: NodeJS.Signals | null; spawnError?: Error }>(
      (resolve) => {
        this.proc.once('error', (spawnError) => resolve({ code: null, killedBy: null, spawnError }));
        this.proc.once('close', (code, killedBy) => resolve({ code, killedBy }));
      },
    ).finally(() => {
      clearTimeout(this.timer);
      options.signal?.removeEventListener('abort', this.onAbort);
    });
  }

  /** stdout, chunk by chunk. */
  async *chunks(): AsyncGenerator<Buffer> {
    const arm = () => {
      this.timer = setTimeout(() => this.stop('timeout'), this.options.idleTimeoutMs);
    };
    arm();
    try {
      for await (const chunk of this.proc.stdout) {
        clearTimeout(this.timer);
        yield chunk as Buffer;
        arm();
      }
    } catch (err) {
      // A stream destroyed by stop() is explained by settle(); anything else is a real fault.
      if (this.stoppedFor === undefined) throw err;
    } finally {
      clearTimeout(this.timer);
    }
  }

  /** The end of what the child wrote on stderr so far: its warnings, for a run that succeeded anyway. */
  get warnings(): string {
    return this.stderr;
  }

  /** Stops the child because its output passed one of our limits; settle() then does not blame it. */
  abandon(): void {
    this.stop('limit');
  }

  /** Waits for the exit and throws what explains a failure. */
  async settle(failureMessage: string): Promise<void> {
    const { code, killedBy, spawnError } = await this.exited;
    const { signal } = this.options;
    if (this.stoppedFor === 'abort' && signal) throw signal.reason;
    if (this.stoppedFor === 'limit') return;
    if (this.stoppedFor === 'timeout') {
      throw new MediaTimeoutError({
        cause: new Error(
          `${this.tool} gave no output for ${this.options.idleTimeoutMs} ms; stderr: ${this.stderr}`,
        ),
      });
    }
    if (spawnError) throw new Error(`${this.tool} could not be started`, { cause: spawnError });
    if (code === 0) return;
    const detail = new Error(`${this.tool} exited with ${code ?? killedBy}; stderr: ${this.stderr}`);
    // Killed by a signal we did not send: the input crashed the decoder. Running it again would too.
    if (code === null) throw unsupported(VIDEO_MESSAGES.crashed, detail);
    throw explainExit(this.stderr, failureMessage, detail, this.options.tooLarge);
  }

  /** Kills the child if it still runs, drops unread output and waits until it is gone. */
  async close(): Promise<void> {
    this.stop('close');
    await this.exited;
  }

  private stop(why: 'timeout' | 'abort' | 'close' | 'limit'): void {
    this.stoppedFor ??= why;
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    // Unread output would otherwise hold the pipe, and with it the child's 'close', open.
    this.proc.stdout.destroy();
  }
}
