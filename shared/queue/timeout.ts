/** Rejects with `onTimeout()` when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `work` with a controller that aborts with `onTimeout()` after `ms`, and with `outer`'s reason when
 * the caller's signal aborts first: the one deadline of fetches, callbacks and video jobs alike.
 */
export async function withDeadline<T>(
  ms: number,
  onTimeout: () => Error,
  work: (controller: AbortController) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(onTimeout()), ms);
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  try {
    return await work(controller);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}
