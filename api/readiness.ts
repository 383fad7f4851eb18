/**
 * A check behind GET /readyz. It throws when its part is not ready. A count it returns, or that its
 * NotReadyError carries, is reported with it, so an operator sees how many workers or model threads there
 * are.
 */
export type ReadinessCheck = () => Promise<void | { count: number }>;

export class NotReadyError extends Error {
  constructor(
    message: string,
    readonly count?: number,
  ) {
    super(message);
    this.name = 'NotReadyError';
  }
}

export interface CheckOutcome {
  ok: boolean;
  count?: number;
  error?: string;
}

/** Runs every check at once; one that fails does not hide the others. */
export async function runChecks(
  checks: Record<string, ReadinessCheck>,
): Promise<Record<string, CheckOutcome>> {
  const outcomes: Record<string, CheckOutcome> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        const detail = await check();
        outcomes[name] = { ok: true, ...detail };
      } catch (err) {
        outcomes[name] = {
          ok: false,
          ...(err instanceof NotReadyError && err.count !== undefined ? { count: err.count } : {}),
          error: err instanceof Error ? err.message : String(err),
        };
      }
    }),
  );
  return outcomes;
}
