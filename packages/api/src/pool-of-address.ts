import { parseIp } from '@metallb-ts/ipam';
import type { Config } from './build-config.js';

/**
 * The pool an address belongs to. The speaker needs it when a Service's pool annotation has not
 * arrived yet (the controller writes status and annotation in two requests).
 */
export function poolOfAddress(config: Config, ip: string): string | undefined {
  const parsed = parseIp(ip);
  if (!parsed.ok) return undefined;
  const { family, value } = parsed.value;
  return config.pools.find((p) =>
    p.ranges.some((r) => r.family === family && r.first <= value && value <= r.last),
  )?.name;
}
