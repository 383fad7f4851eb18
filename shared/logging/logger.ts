import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; every line of a request or job carries its id via child loggers. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, name, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
