import { parseIp, PoolRanges } from '@metallb-ts/ipam';
import type { Config } from './build-config.js';

/** One sorted index per config object, built on first use (a config is never changed in place). */
const indexes = new WeakMap<Config, PoolRanges>();

/**
 * The pool an address belongs to. The speaker needs it when a Service's pool annotation has not
 * arrived yet (the controller writes status and annotation in two requests).
 */
export function poolOfAddress(config: Config, ip: string): string | undefined {
  const parsed = parseIp(ip);
  if (!parsed.ok) return undefined;
  let index = indexes.get(config);
  if (index === undefined) indexes.set(config, (index = new PoolRanges(config.pools)));
  return index.poolOf(parsed.value);
}
