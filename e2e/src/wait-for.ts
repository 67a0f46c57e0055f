export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/** What a probe returns: `done` ends the wait with `value`; otherwise `observed` is kept for the error. */
export type Probe<T> = { done: true; value: T } | { done: false; observed: unknown };

/**
 * Bounded poll: calls `probe` until it reports done or the time-out passes, then throws naming
 * what was awaited and the last observation (or the last error the probe threw).
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<Probe<T>> | Probe<T>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'no observation yet';
  for (;;) {
    try {
      const r = await probe();
      if (r.done) return r.value;
      last = r.observed;
    } catch (e) {
      last = e instanceof Error ? `error: ${e.message}` : e;
    }
    if (Date.now() >= deadline) {
      const shown = typeof last === 'string' ? last : JSON.stringify(last, null, 2);
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}; last observation: ${shown}`,
      );
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
