/** What test/support/first-run-probe.ts saw of one entry's first run, as it writes it. */
export interface FirstRunProbe {
  code: number | null;
  logs: string[];
  stderr: string;
  children: string[];
  detected?: { status: number; faces: number };
  /** What the private Redis answers a PING without its password. */
  unauthenticated?: string;
}
