// What a controller hand-over must never do, as pure checks over what the watches recorded. Each
// returns the violations as lines naming the Services and addresses, empty when all is well.
import type { IngressChange } from './observer.js';

/** Addresses held by more than one Service (the test's Services never share). */
export function duplicateAddresses(current: ReadonlyMap<string, readonly string[]>): string[] {
  const holders = new Map<string, string[]>();
  for (const [name, ips] of current)
    for (const ip of ips) holders.set(ip, [...(holders.get(ip) ?? []), name]);
  return [...holders]
    .filter(([, names]) => names.length > 1)
    .map(([ip, names]) => `${ip} is held by ${names.sort().join(', ')}`);
}

/** Services without an address among `names`. */
export function unaddressed(
  current: ReadonlyMap<string, readonly string[]>,
  names: Iterable<string>,
): string[] {
  return [...names].filter((n) => (current.get(n) ?? []).length === 0).sort();
}

/** Services whose address at `before` differs from the one they hold now. */
export function changedSince(
  before: ReadonlyMap<string, readonly string[]>,
  now: ReadonlyMap<string, readonly string[]>,
): string[] {
  return [...before]
    .filter(([, ips]) => ips.length > 0)
    .filter(([name, ips]) => (now.get(name) ?? []).join(',') !== ips.join(','))
    .map(
      ([name, ips]) =>
        `${name} had ${ips.join(',')} before the kill and has ${(now.get(name) ?? []).join(',') || 'nothing'} now`,
    );
}

/**
 * Services whose ingress ever went from one address to another or back to nothing: the test never
 * asks for that, so any such step is a controller reassigning or dropping an address.
 */
export function unsteady(history: ReadonlyMap<string, readonly IngressChange[]>): string[] {
  const out: string[] = [];
  for (const [name, changes] of history) {
    const firstAddressed = changes.findIndex((c) => c.ips.length > 0);
    if (firstAddressed < 0) continue;
    const later = changes.slice(firstAddressed + 1);
    if (later.length > 0) out.push(`${name}: ${changes.map((c) => `[${c.ips.join(',')}]`).join(' -> ')}`);
  }
  return out.sort();
}

/** min / median / max of some durations (ms), for the report. */
export function spread(values: readonly number[]): { min: number; median: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { min: NaN, median: NaN, max: NaN };
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s.at(-1)! };
}
