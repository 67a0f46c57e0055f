import { formatRange, parseAddressSpec } from './address-spec.js';
import type { AddressRange } from './address-spec.js';
import { validateSelector } from './label-selector.js';
import type { LabelSelector } from './label-selector.js';
import type { Family } from './result.js';

/** Which services may draw from a pool automatically, and in what order (lower priority first). */
export interface ServiceAllocation {
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

/** A pool as users write it (addresses still text). */
export interface PoolSpec {
  name: string;
  addresses: string[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  serviceAllocation?: ServiceAllocation;
}

/** A validated pool: parsed, non-overlapping ranges sorted by family then first address. */
export interface Pool {
  readonly name: string;
  readonly ranges: readonly AddressRange[];
  readonly families: readonly Family[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocation;
}

/** Why a pool was left out. `field` is a path into the pool object (e.g. `spec.addresses[1]`). */
export interface PoolError {
  pool: string;
  field: string;
  value: unknown;
  reason: string;
  message: string;
}

function poolError(pool: string, field: string, value: unknown, reason: string): PoolError {
  const shown = typeof value === 'string' ? ` "${value}"` : '';
  return { pool, field, value, reason, message: `pool "${pool}": ${field}${shown}: ${reason}` };
}

interface OwnedRange extends AddressRange {
  pool: string;
  index: number;
}

function compareRanges(a: AddressRange, b: AddressRange): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.first < b.first ? -1 : a.first > b.first ? 1 : 0;
}

/** Sorted ranges of accepted pools; finds an overlap in O(log n). */
class RangeIndex {
  private readonly ranges: OwnedRange[] = [];

  overlapping(range: AddressRange): OwnedRange | undefined {
    // The stored ranges just before and at the first one sorting after `range` are the only ones
    // that can overlap it when stored ranges are disjoint.
    const lo = this.firstAfter(range);
    for (const candidate of [this.ranges[lo - 1], this.ranges[lo]]) {
      if (
        candidate &&
        candidate.family === range.family &&
        candidate.first <= range.last &&
        range.first <= candidate.last
      ) {
        return candidate;
      }
    }
    return undefined;
  }

  insert(range: OwnedRange): void {
    this.ranges.splice(this.firstAfter(range), 0, range);
  }

  /** Index of the first stored range that sorts after `range` (binary search). */
  private firstAfter(range: AddressRange): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareRanges(this.ranges[mid]!, range) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function validateServiceAllocation(name: string, allocation: unknown): PoolError | undefined {
  const at = 'spec.serviceAllocation';
  if (typeof allocation !== 'object' || allocation === null || Array.isArray(allocation)) {
    return poolError(name, at, allocation, 'must be an object');
  }
  const { priority, namespaces, namespaceSelectors, serviceSelectors } = allocation as Record<
    string,
    unknown
  >;
  if (
    priority !== undefined &&
    (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0)
  ) {
    return poolError(name, `${at}.priority`, priority, 'must be a non-negative integer');
  }
  if (namespaces !== undefined) {
    if (!Array.isArray(namespaces))
      return poolError(name, `${at}.namespaces`, namespaces, 'must be a list of namespace names');
    const bad = namespaces.findIndex((n) => typeof n !== 'string' || n === '');
    if (bad >= 0)
      return poolError(
        name,
        `${at}.namespaces[${bad}]`,
        namespaces[bad],
        'must be a non-empty namespace name',
      );
    const twice = namespaces.findIndex((n, i) => namespaces.indexOf(n) !== i);
    if (twice >= 0)
      return poolError(
        name,
        `${at}.namespaces[${twice}]`,
        namespaces[twice],
        `namespace listed twice (also spec.serviceAllocation.namespaces[${namespaces.indexOf(namespaces[twice])}])`,
      );
  }
  for (const [field, selectors] of [
    ['namespaceSelectors', namespaceSelectors],
    ['serviceSelectors', serviceSelectors],
  ] as const) {
    if (selectors === undefined) continue;
    if (!Array.isArray(selectors))
      return poolError(name, `${at}.${field}`, selectors, 'must be a list of label selectors');
    for (let i = 0; i < selectors.length; i++) {
      const checked = validateSelector(selectors[i]);
      if (!checked.ok) {
        const sub = checked.error.field === '' ? '' : `.${checked.error.field}`;
        return poolError(name, `${at}.${field}[${i}]${sub}`, checked.error.value, checked.error.reason);
      }
    }
    const texts = selectors.map((s) => JSON.stringify(s));
    const twice = texts.findIndex((t, i) => texts.indexOf(t) !== i);
    if (twice >= 0)
      return poolError(
        name,
        `${at}.${field}[${twice}]`,
        selectors[twice],
        `the same selector as ${at}.${field}[${texts.indexOf(texts[twice]!)}]`,
      );
  }
  return undefined;
}

/**
 * Turns pool specs into usable pools. A pool with a bad field, a duplicate name, or addresses that
 * overlap an earlier pool is reported and left out; every other pool stays usable. Earlier specs
 * win conflicts, so callers should pass a stable order (e.g. oldest object first).
 */
export function buildPoolSet(specs: readonly PoolSpec[]): { pools: Pool[]; errors: PoolError[] } {
  const pools: Pool[] = [];
  const errors: PoolError[] = [];
  const index = new RangeIndex();
  const names = new Set<string>();

  for (const spec of specs) {
    const name = typeof spec?.name === 'string' ? spec.name : String(spec?.name);
    if (typeof spec?.name !== 'string' || spec.name === '') {
      errors.push(poolError(name, 'metadata.name', spec?.name, 'a pool needs a non-empty name'));
      continue;
    }
    if (names.has(name)) {
      errors.push(poolError(name, 'metadata.name', name, `another pool is already named "${name}"`));
      continue;
    }
    const problem = checkPool(spec, index);
    if ('error' in problem) {
      errors.push(problem.error);
      continue;
    }
    names.add(name);
    problem.ranges.forEach((range, i) => index.insert({ ...range, pool: name, index: i }));
    const ranges = [...problem.ranges].sort(compareRanges);
    const families = [...new Set(ranges.map((r) => r.family))].sort();
    const pool: Pool = {
      name,
      ranges,
      families,
      autoAssign: spec.autoAssign,
      avoidBuggyIPs: spec.avoidBuggyIPs,
      ...(spec.serviceAllocation !== undefined
        ? { serviceAllocation: structuredClone(spec.serviceAllocation) }
        : {}),
    };
    pools.push(pool);
  }
  return { pools, errors };
}

function checkPool(spec: PoolSpec, accepted: RangeIndex): { ranges: AddressRange[] } | { error: PoolError } {
  const name = spec.name;
  if (typeof spec.autoAssign !== 'boolean')
    return { error: poolError(name, 'spec.autoAssign', spec.autoAssign, 'must be true or false') };
  if (typeof spec.avoidBuggyIPs !== 'boolean') {
    return { error: poolError(name, 'spec.avoidBuggyIPs', spec.avoidBuggyIPs, 'must be true or false') };
  }
  if (!Array.isArray(spec.addresses) || spec.addresses.length === 0) {
    return {
      error: poolError(
        name,
        'spec.addresses',
        spec.addresses,
        'at least one address, range or CIDR is required',
      ),
    };
  }
  if (spec.serviceAllocation !== undefined) {
    const problem = validateServiceAllocation(name, spec.serviceAllocation);
    if (problem) return { error: problem };
  }
  const own = new RangeIndex();
  const ranges: AddressRange[] = [];
  for (let i = 0; i < spec.addresses.length; i++) {
    const text = spec.addresses[i];
    const field = `spec.addresses[${i}]`;
    if (typeof text !== 'string') return { error: poolError(name, field, text, 'must be a string') };
    const parsed = parseAddressSpec(text);
    if (!parsed.ok) return { error: poolError(name, field, text, parsed.error.reason) };
    const range = parsed.value;
    const inside = own.overlapping(range);
    if (inside) {
      return {
        error: poolError(
          name,
          field,
          text,
          `overlaps spec.addresses[${inside.index}] "${spec.addresses[inside.index]}" of the same pool`,
        ),
      };
    }
    const other = accepted.overlapping(range);
    if (other) {
      const common: AddressRange = {
        family: range.family,
        first: range.first > other.first ? range.first : other.first,
        last: range.last < other.last ? range.last : other.last,
      };
      return {
        error: poolError(
          name,
          field,
          text,
          `overlaps pool "${other.pool}" (addresses ${formatRange(common)} are in both pools)`,
        ),
      };
    }
    own.insert({ ...range, pool: name, index: i });
    ranges.push(range);
  }
  return { ranges };
}
