import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout; every line of a request or job carries its id via child loggers. Lines
 * are written asynchronously: a synchronous write per line cost the worker's event loop 0.5 ms a job
 * under load (and stalls it when a log collector is slow to read the pipe), where async writes coalesce
 * the lines that arrive while one is in flight. pino flushes what is left synchronously at exit.
 */
export function createLogger(level: string, name: string): Logger {
  return pino(
    { level, name, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: false }),
  );
}
