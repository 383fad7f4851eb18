import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The tests run from dist/test/support; the podman settings stay in the source tree.
const CONTAINERS_CONF = fileURLToPath(
  new URL('../../../scripts/image-test/containers.conf', import.meta.url),
);

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `podman ARGS` with the test's containers.conf (scripts/image-test/prepare-base.sh says why) and
 * resolves with its exit code and output; it rejects only when podman cannot be run or passes
 * `timeoutMs`. `nice` lowers the priority of what podman starts (a build), for a machine shared with
 * other work.
 */
export function podman(
  args: string[],
  opts: { timeoutMs?: number; nice?: boolean } = {},
): Promise<PodmanResult> {
  const [file, argv] = opts.nice ? ['nice', ['-n', '10', 'podman', ...args]] : ['podman', args];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      {
        env: { ...process.env, CONTAINERS_CONF },
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new Error(`podman ${args[0] ?? ''}: ${err.message}\n${stderr.slice(-4000)}`));
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

/** `podman ARGS`, which must succeed: its stdout, or an error with the end of its output. */
export async function podmanOk(args: string[], opts: { timeoutMs?: number; nice?: boolean } = {}) {
  const run = await podman(args, opts);
  if (run.code !== 0) {
    const tail = `${run.stdout}${run.stderr}`.slice(-4000);
    throw new Error(`podman ${args.join(' ')} exited with ${run.code}:\n${tail}`);
  }
  return run.stdout;
}

/** The JSON log lines a container wrote to stdout so far; other lines (a crash's stack) are left out. */
export async function containerLogs(name: string): Promise<Record<string, unknown>[]> {
  const { stdout } = await podman(['logs', name]);
  return stdout.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Polls `probe` every 200 ms until it returns a value, or fails saying `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
