/** A config edit waits at least this long for the rest of its burst before the reload. */
export const CONFIG_FOLD_MS = 100;

/**
 * Pure: how long a config edit waits before the reload it asks for, given how long the last
 * reload blocked the event loop. Edits until then ride along (the queue holds the key once). A
 * reload of T ms is followed by at least 2T ms for everything else — lease renewals, Service
 * syncs, watch events — so however costly the config, the loop is busy at most a third of the
 * time with it.
 */
export function configReloadDelay(lastReloadMs: number): number {
  return Math.max(CONFIG_FOLD_MS, Math.ceil(2 * lastReloadMs));
}
