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

/** Stored ranges per block: an insert moves at most ~2x this many entries, never the whole index. */
const BLOCK = 256;

/**
 * Disjoint ranges sorted by family then first address, kept in blocks of at most 2 * BLOCK: an
 * overlap lookup is two binary searches, an insert one splice inside one block. (One flat array
 * spliced per insert cost O(n) each: quadratic in the address entries of a storm of pools.)
 */
class RangeIndex {
  private readonly blocks: OwnedRange[][] = [];

  overlapping(range: AddressRange): OwnedRange | undefined {
    // The stored ranges just before and at the first one sorting after `range` are the only ones
    // that can overlap it when stored ranges are disjoint.
    const [b, i] = this.firstAfter(range);
    const block = this.blocks[b];
    const at = block?.[i] ?? this.blocks[b + 1]?.[0];
    const before = i > 0 ? block![i - 1] : this.blocks[b - 1]?.at(-1);
    for (const candidate of [before, at]) {
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
    if (this.blocks.length === 0) {
      this.blocks.push([range]);
      return;
    }
    let [b, i] = this.firstAfter(range);
    if (b === this.blocks.length) {
      b = this.blocks.length - 1;
      i = this.blocks[b]!.length;
    }
    const block = this.blocks[b]!;
    block.splice(i, 0, range);
    if (block.length > 2 * BLOCK) this.blocks.splice(b + 1, 0, block.splice(BLOCK));
  }

  /** Block and index of the first stored range that sorts after `range` (binary searches). */
  private firstAfter(range: AddressRange): [number, number] {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareRanges(this.blocks[mid]!.at(-1)!, range) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const block = this.blocks[lo];
    if (block === undefined) return [lo, 0];
    let l = 0;
    let h = block.length;
    while (l < h) {
      const mid = (l + h) >> 1;
      if (compareRanges(block[mid]!, range) <= 0) l = mid + 1;
      else h = mid;
    }
    return [lo, l];
  }
}

/** A pool's `addresses` read on their own, before any other pool is looked at. */
export interface ParsedAddresses {
  /** The entries in order, up to the first bad one. */
  readonly ranges: readonly AddressRange[];
  /** The first entry that is unreadable or overlaps an earlier entry (it is `ranges.length`). */
  readonly bad?: { field: string; value: unknown; reason: string };
  /** `ranges` sorted by family then first address. */
  readonly sorted: readonly AddressRange[];
  /** `sorted` with adjacent ranges joined: 2,000 consecutive /128 entries are one range here. */
  readonly merged: readonly AddressRange[];
  readonly families: readonly Family[];
}

/** A parsed list and a copy of the entries it was parsed from. */
interface Remembered {
  readonly entries: readonly unknown[];
  readonly parsed: ParsedAddresses;
}

/**
 * Parsed address lists, by the list they were read from and by its text. The config is rebuilt
 * from the cached objects on every edit of any pool (up to three times per edit, see
 * LastGoodConfig), and an object comes back as a new copy after every write to it (its status, its
 * last-valid-spec annotation): parsing a pool of 2,000 entries again each time was most of a
 * reload. The copy of the entries tells a list changed in place; the text map is bounded by the
 * entries it holds, least recently used first out.
 */
const byList = new WeakMap<readonly unknown[], Remembered>();
const byText = new Map<string, Remembered>();
let rememberedEntries = 0;
/** About 30 MB of parsed ranges at most; a storm of 1,000 hostile pools lists ~100,000 entries. */
const MAX_REMEMBERED_ENTRIES = 200_000;

const sameEntries = (r: Remembered, addresses: readonly unknown[]) =>
  r.entries.length === addresses.length && r.entries.every((e, i) => e === addresses[i]);

/** The text key of a list: entries that are not strings make the list unreadable anyway. */
const textKey = (addresses: readonly unknown[]) => JSON.stringify(addresses) ?? '';

/**
 * Reads a pool's address list: every entry parsed, overlaps between its own entries found. Pure;
 * the result is remembered, so calling it ahead of `buildPoolSet` (e.g. a pool at a time, between
 * other work) makes that call cheap.
 */
export function parseAddressList(addresses: readonly unknown[]): ParsedAddresses {
  const mine = byList.get(addresses);
  if (mine !== undefined && sameEntries(mine, addresses)) return mine.parsed;
  const key = textKey(addresses);
  const known = byText.get(key);
  let remembered: Remembered;
  if (known !== undefined && sameEntries(known, addresses)) {
    byText.delete(key);
    remembered = known;
  } else {
    if (known !== undefined) {
      byText.delete(key);
      rememberedEntries -= known.entries.length;
    }
    remembered = { entries: [...addresses], parsed: readAddressList(addresses) };
    rememberedEntries += addresses.length;
  }
  byText.set(key, remembered);
  byList.set(addresses, remembered);
  for (const [oldest, r] of byText) {
    if (rememberedEntries <= MAX_REMEMBERED_ENTRIES || r === remembered) break;
    byText.delete(oldest);
    rememberedEntries -= r.entries.length;
  }
  return remembered.parsed;
}

function readAddressList(addresses: readonly unknown[]): ParsedAddresses {
  const own = new RangeIndex();
  const ranges: AddressRange[] = [];
  const done = (bad?: ParsedAddresses['bad']): ParsedAddresses => {
    const sorted = [...ranges].sort(compareRanges);
    const families = [...new Set(sorted.map((r) => r.family))].sort();
    const merged: AddressRange[] = [];
    for (const r of sorted) {
      const last = merged.at(-1);
      if (last?.family === r.family && last.last + 1n === r.first)
        merged[merged.length - 1] = { ...last, last: r.last };
      else merged.push(r);
    }
    const read = { ranges, sorted, merged, families };
    return bad === undefined ? read : { ...read, bad };
  };
  for (let i = 0; i < addresses.length; i++) {
    const text = addresses[i];
    const field = `spec.addresses[${i}]`;
    if (typeof text !== 'string') return done({ field, value: text, reason: 'must be a string' });
    const parsed = parseAddressSpec(text);
    if (!parsed.ok) return done({ field, value: text, reason: parsed.error.reason });
    const range = parsed.value;
    const inside = own.overlapping(range);
    if (inside) {
      return done({
        field,
        value: text,
        reason: `overlaps spec.addresses[${inside.index}] "${String(addresses[inside.index])}" of the same pool`,
      });
    }
    own.insert({ ...range, pool: '', index: i });
    ranges.push(range);
  }
  return done();
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
    for (const range of problem.merged) index.insert({ ...range, pool: name, index: -1 });
    const pool: Pool = {
      name,
      ranges: problem.sorted,
      families: problem.families,
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

function checkPool(spec: PoolSpec, accepted: RangeIndex): ParsedAddresses | { error: PoolError } {
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
  const parsed = parseAddressList(spec.addresses);
  // Entry by entry as a user reads them: the first entry that is bad on its own or overlaps an
  // accepted pool is the one reported. The joined ranges tell cheaply whether any entry does.
  const overlaps = parsed.merged.some((r) => accepted.overlapping(r) !== undefined);
  for (let i = 0; overlaps && i < parsed.ranges.length; i++) {
    const range = parsed.ranges[i]!;
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
          `spec.addresses[${i}]`,
          spec.addresses[i],
          `overlaps pool "${other.pool}" (addresses ${formatRange(common)} are in both pools)`,
        ),
      };
    }
  }
  if (parsed.bad) return { error: poolError(name, parsed.bad.field, parsed.bad.value, parsed.bad.reason) };
  return parsed;
}
