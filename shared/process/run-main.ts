import { pathToFileURL } from 'node:url';
import type { Logger } from '../logging/logger.js';
import { ConfigError } from '../config/config.js';

/** True when `moduleUrl` is the file node was asked to run (not imported by a test). */
export function isEntryPoint(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl;
}

/**
 * Runs a process entry: starts it, and on SIGTERM/SIGINT stops it gracefully once. Should the parent that
 * supervises it die, the IPC channel closes and the process stops too, rather than run on unsupervised. A failed start exits
 * with status 1 and a message that says what to fix.
 */
export function runMain(
  name: string,
  start: () => Promise<{ stop(): Promise<void>; log: Logger; readyMessage?: object }>,
): void {
  start().then(
    (handle) => {
      // A supervising parent (the all-in-one process) learns on its IPC channel that this one is ready.
      if (process.send && handle.readyMessage) process.send(handle.readyMessage);
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        handle.log.info({ signal }, `${name} stopping`);
        handle.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            handle.log.error({ err }, `${name} did not stop cleanly`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('disconnect', () => shutdown('parent gone'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    },
    (err: unknown) => {
      console.error(
        `${name} failed to start: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}`,
      );
      process.exit(1);
    },
  );
}
