/**
 * Runs `fn` over `items` with at most `limit` calls in flight and answers the results in input order.
 * After the first failure no new call starts, and it rejects only once the calls in flight have
 * settled, so nothing keeps writing behind the caller's back after it has seen the error. p-limit under
 * Promise.all cannot stand in: that rejects at the first failure while the other uploads still run, and
 * the queued ones start anyway; a store that failed must not be written to after the job was answered.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
  return results;
}

/**
 * A one-line reason for a storage fault, fit for the user-facing StorageError message. Node's system
 * errors spell out file paths and internal addresses, which stay in the error's `cause` for the logs;
 * the message keeps only what failed (`EACCES on open`, `ECONNREFUSED`). A refused dual-stack
 * connection is an AggregateError with an empty message, so its code stands in for it.
 */
export function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (code && syscall) return `${code} on ${syscall}`;
  return err.message || code || err.name;
}
