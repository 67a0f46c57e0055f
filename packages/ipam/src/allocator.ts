import { formatIp, parseIp } from './address.js';
import { joinedRanges } from './address-spec.js';
import type { IpValue } from './address.js';
import { IntervalSet } from './interval-set.js';
import { matchesSelector } from './label-selector.js';
import { PoolRanges } from './pool-ranges.js';
import type { Pool } from './pool.js';
import { err, familyName, ok } from './result.js';
import type { Family, Result } from './result.js';
import { sharingConflict } from './sharing.js';
import type { SharingRequest } from './sharing.js';

export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** Everything the allocator needs to know about one LoadBalancer service. */
export interface ServiceRequest {
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  /** `spec.loadBalancerIP` or the `loadBalancerIPs` annotation (at most one per family). */
  requestedIPs: string[];
  /** The `address-pool` annotation. */
  pool?: string;
  /** `spec.ipFamilies`, in order. */
  families: Family[];
  familyPolicy: FamilyPolicy;
  sharing?: SharingRequest;
}

export interface Assignment {
  ips: string[];
  pool: string;
}

export type AllocationErrorReason =
  | 'PoolExhausted'
  | 'UnknownPool'
  | 'NotInPool'
  | 'AddressInUse'
  | 'NoPoolForFamily'
  | 'NoPoolAvailable'
  | 'PoolNotAllowed'
  | 'InvalidRequest';

export interface AllocationError {
  reason: AllocationErrorReason;
  message: string;
}

/** A service that lost its addresses because of a pool change. */
export interface Eviction {
  key: string;
  ips: string[];
  pool: string;
  reason: string;
}

export interface PoolStats {
  pool: string;
  family: Family;
  total: bigint;
  inUse: bigint;
  available: bigint;
}

interface PoolState {
  pool: Pool;
  free: Map<Family, IntervalSet>;
  total: Map<Family, bigint>;
  inUse: Map<Family, bigint>;
}

interface ServiceRecord {
  key: string;
  addresses: IpValue[];
  ips: string[];
  pool: string;
  sharing: SharingRequest | undefined;
}

interface AddressState {
  ip: IpValue;
  pool: string;
  sharingKey: string;
  holders: Map<string, ServiceRecord>;
}

/** The request after validation: families to serve and parsed requested addresses. */
interface CheckedRequest {
  req: ServiceRequest;
  /** Families in preference order; RequireDualStack and PreferDualStack list two when possible. */
  families: Family[];
  requested: IpValue[];
  sharing: SharingRequest | undefined;
}

function failure(reason: AllocationErrorReason, message: string): { ok: false; error: AllocationError } {
  return err({ reason, message });
}

/** Old firmware mistakes IPv4 addresses ending in .0 or .255 for network/broadcast addresses. */
function isBuggy(ip: IpValue): boolean {
  if (ip.family !== 4) return false;
  const last = ip.value & 255n;
  return last === 0n || last === 255n;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** How many x in [first, last] have x mod 256 == residue. */
function countResidue(first: bigint, last: bigint, residue: bigint): bigint {
  return floorDiv(last - residue, 256n) - floorDiv(first - 1n - residue, 256n);
}

function poolAllowsService(pool: Pool, req: ServiceRequest): boolean {
  const allocation = pool.serviceAllocation;
  if (allocation === undefined) return true;
  const namespaces = allocation.namespaces ?? [];
  const namespaceSelectors = allocation.namespaceSelectors ?? [];
  if (namespaces.length > 0 || namespaceSelectors.length > 0) {
    const labels = req.namespaceLabels ?? {};
    if (!namespaces.includes(req.namespace) && !namespaceSelectors.some((s) => matchesSelector(s, labels)))
      return false;
  }
  const serviceSelectors = allocation.serviceSelectors ?? [];
  if (serviceSelectors.length > 0 && !serviceSelectors.some((s) => matchesSelector(s, req.labels)))
    return false;
  return true;
}

/** Pools with a serviceAllocation first (lower priority wins, unset last), then the rest; by name within. */
function compareAutoOrder(a: Pool, b: Pool): number {
  const aHas = a.serviceAllocation !== undefined;
  const bHas = b.serviceAllocation !== undefined;
  if (aHas !== bHas) return aHas ? -1 : 1;
  if (aHas && bHas) {
    const ap = a.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
    const bp = b.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
    if (ap !== bp) return ap < bp ? -1 : 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function cloneSharing(sharing: SharingRequest | undefined): SharingRequest | undefined {
  if (sharing === undefined) return undefined;
  return {
    key: sharing.key,
    backend: sharing.backend,
    ports: sharing.ports.map((p) => ({ protocol: p.protocol, port: p.port })),
  };
}

function sameAddresses(a: readonly IpValue[], b: readonly IpValue[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x) => b.some((y) => x.family === y.family && x.value === y.value));
}

/**
 * Address allocation as plain state changed through a few idempotent verbs. No Kubernetes objects,
 * no clock, no metrics: callers pass plain records and read `stats()`.
 *
 * Each pool keeps its free addresses as intervals in a balanced tree, and held addresses sit in a
 * hash map, so allocate, assign and release cost O(log n) whatever the pool size (a /8 or a /64).
 */
export class Allocator {
  private pools = new Map<string, PoolState>();
  private autoOrder: Pool[] = [];
  private ranges = new PoolRanges([]);
  private readonly services = new Map<string, ServiceRecord>();
  private addresses = new Map<string, AddressState>();
  /** sharing key -> addresses currently held under that key. */
  private sharingIndex = new Map<string, Set<string>>();
  private freed = 0;
  private changes = 0;

  /**
   * Grows whenever an address may have returned to a free set (a release, a move, a pool change).
   * A caller holding services that found their pool full compares it with the value it saw last
   * to know when a retry may succeed; no other state change (e.g. a re-sync) moves it.
   */
  get freedCount(): number {
    return this.freed;
  }

  /** Grows whenever `stats()` may have changed; equal values mean equal stats. */
  get generation(): number {
    return this.changes;
  }

  constructor(pools: readonly Pool[] = []) {
    this.setPools(pools);
  }

  /**
   * Replaces the pool set. Services keep their addresses when these are still in some pool (the
   * pool name follows the address); services whose addresses left every pool are released and
   * returned with the reason.
   */
  setPools(pools: readonly Pool[]): Eviction[] {
    const states = new Map<string, PoolState>();
    for (const pool of pools) {
      if (states.has(pool.name)) continue;
      const state: PoolState = { pool, free: new Map(), total: new Map(), inUse: new Map() };
      for (const range of joinedRanges(pool.ranges)) {
        let set = state.free.get(range.family);
        if (set === undefined) {
          set = new IntervalSet();
          state.free.set(range.family, set);
          state.inUse.set(range.family, 0n);
        }
        set.addRange(range.first, range.last);
      }
      for (const [family, set] of state.free) {
        let total = set.size;
        if (pool.avoidBuggyIPs && family === 4) {
          for (const { start, end } of set)
            total -= countResidue(start, end, 0n) + countResidue(start, end, 255n);
        }
        state.total.set(family, total);
      }
      states.set(pool.name, state);
    }
    this.pools = states;
    this.freed++;
    this.changes++;
    this.autoOrder = [...states.values()].map((s) => s.pool).sort(compareAutoOrder);
    this.ranges = new PoolRanges([...states.values()].map((state) => state.pool));

    const evictions: Eviction[] = [];
    const keep: ServiceRecord[] = [];
    for (const record of this.services.values()) {
      const reason = this.evictionReason(record);
      if (reason === undefined) keep.push(record);
      else evictions.push({ key: record.key, ips: [...record.ips], pool: record.pool, reason });
    }
    this.addresses = new Map();
    this.sharingIndex = new Map();
    this.services.clear();
    for (const record of keep) {
      record.pool = this.poolOfValue(record.addresses[0]!)!;
      this.commit(record);
    }
    return evictions;
  }

  private evictionReason(record: ServiceRecord): string | undefined {
    let pool: string | undefined;
    for (const ip of record.addresses) {
      const text = formatIp(ip);
      const found = this.poolOfValue(ip);
      if (found === undefined) return `address ${text} is no longer in any pool`;
      if (isBuggy(ip) && this.pools.get(found)!.pool.avoidBuggyIPs) {
        return `address ${text} is in pool "${found}", which avoids addresses ending in .0 or .255`;
      }
      if (pool !== undefined && pool !== found) {
        return `addresses ${record.ips.join(', ')} are now in different pools ("${pool}" and "${found}")`;
      }
      pool = found;
    }
    return undefined;
  }

  private poolOfValue(ip: IpValue): string | undefined {
    return this.ranges.poolOf(ip);
  }

  /** The addresses `key` holds, if any. */
  assignment(key: string): Assignment | undefined {
    const record = this.services.get(key);
    return record === undefined ? undefined : { ips: [...record.ips], pool: record.pool };
  }

  /** Frees everything `key` holds; unknown keys are a no-op. */
  release(key: string): void {
    const record = this.services.get(key);
    if (record === undefined) return;
    this.services.delete(key);
    for (const [i, ip] of record.addresses.entries()) {
      const text = record.ips[i]!;
      const state = this.addresses.get(text);
      if (state === undefined) continue;
      state.holders.delete(key);
      if (state.holders.size > 0) continue;
      this.addresses.delete(text);
      if (state.sharingKey !== '') {
        const held = this.sharingIndex.get(state.sharingKey);
        held?.delete(text);
        if (held?.size === 0) this.sharingIndex.delete(state.sharingKey);
      }
      const pool = this.pools.get(state.pool);
      if (pool !== undefined) {
        pool.free.get(ip.family)?.add(ip.value);
        pool.inUse.set(ip.family, (pool.inUse.get(ip.family) ?? 1n) - 1n);
        this.freed++;
        this.changes++;
      }
    }
  }

  /**
   * Records that `key` holds `ips` (restore at startup, or a Service that already shows addresses
   * in its status). Idempotent and order-independent; an address another service holds and may not
   * share is an error for this call, never taken away from the holder. On error nothing changes.
   */
  assign(key: string, ips: string[], req: ServiceRequest): Result<Assignment, AllocationError> {
    const checked = checkRequest(req);
    if (!checked.ok) return checked;
    if (!Array.isArray(ips) || ips.length === 0) return failure('InvalidRequest', 'no addresses to assign');
    const values: IpValue[] = [];
    for (const text of ips) {
      const parsed = typeof text === 'string' ? parseIp(text.trim()) : err('not a string');
      if (!parsed.ok) return failure('InvalidRequest', `"${String(text)}" is ${parsed.error}`);
      if (values.some((v) => v.family === parsed.value.family)) {
        return failure(
          'InvalidRequest',
          `a service holds at most one address per family; ${ips.join(', ')} has two ${familyName(parsed.value.family)}`,
        );
      }
      values.push(parsed.value);
    }
    const existing = this.services.get(key);
    if (checked.value.requested.length > 0 && !sameAddresses(values, checked.value.requested)) {
      return failure(
        'InvalidRequest',
        `the service requests ${checked.value.requested.map(formatIp).join(', ')}, not ${values.map(formatIp).join(', ')}`,
      );
    }
    return this.place(key, values, checked.value, existing);
  }

  /**
   * Gives `key` addresses for `req`: its current ones when they still satisfy the request,
   * otherwise requested IPs, then the pool annotation, then automatic assignment. A current
   * assignment that no longer satisfies the request is released first. A request that is invalid
   * in itself (InvalidRequest, e.g. two IPv4 addresses requested) changes nothing.
   */
  allocate(key: string, req: ServiceRequest): Result<Assignment, AllocationError> {
    const checked = checkRequest(req);
    if (!checked.ok) return checked;
    const request = checked.value;
    const existing = this.services.get(key);
    if (existing !== undefined) {
      if (request.requested.length === 0 || sameAddresses(existing.addresses, request.requested)) {
        const grown =
          request.requested.length === 0 ? this.addMissingFamily(key, existing, request) : undefined;
        if (grown?.ok) return grown;
        const kept = this.place(key, existing.addresses, request, existing);
        if (kept.ok) return kept;
      }
      this.release(key);
    }
    if (request.requested.length > 0) return this.place(key, request.requested, request, undefined);
    if (req.pool !== undefined && req.pool !== '') {
      const state = this.pools.get(req.pool);
      if (state === undefined) return failure('UnknownPool', `pool "${req.pool}" does not exist`);
      if (!poolAllowsService(state.pool, req)) {
        return failure(
          'PoolNotAllowed',
          `pool "${req.pool}" does not serve this service (its serviceAllocation does not match namespace "${req.namespace}" and the service labels)`,
        );
      }
      return this.fromPools(key, [state], request, `pool "${req.pool}"`);
    }
    const candidates: PoolState[] = [];
    for (const pool of this.autoOrder) {
      if (pool.autoAssign && poolAllowsService(pool, req)) candidates.push(this.pools.get(pool.name)!);
    }
    if (candidates.length === 0) {
      return failure(
        'NoPoolAvailable',
        `no pool is available for automatic assignment to a service in namespace "${req.namespace}"`,
      );
    }
    return this.fromPools(key, candidates, request, 'any pool for automatic assignment');
  }

  /** Per pool and family: total usable addresses, addresses in use, and what is left. */
  stats(): PoolStats[] {
    const out: PoolStats[] = [];
    for (const state of this.pools.values()) {
      for (const family of state.pool.families) {
        const total = state.total.get(family) ?? 0n;
        const inUse = state.inUse.get(family) ?? 0n;
        out.push({ pool: state.pool.name, family, total, inUse, available: total - inUse });
      }
    }
    return out;
  }

  /** Validates holding exactly `values` and commits; `existing` is this key's current record. */
  private place(
    key: string,
    values: IpValue[],
    request: CheckedRequest,
    existing: ServiceRecord | undefined,
  ): Result<Assignment, AllocationError> {
    const { req } = request;
    let poolName: string | undefined;
    for (const ip of values) {
      if (!request.families.includes(ip.family)) {
        return failure(
          'InvalidRequest',
          `address ${formatIp(ip)} is ${familyName(ip.family)}, but the service's families are ${request.families.map(familyName).join(', ')}`,
        );
      }
      const found = this.poolOfValue(ip);
      if (found === undefined) return failure('NotInPool', `address ${formatIp(ip)} is not in any pool`);
      if (poolName !== undefined && found !== poolName) {
        return failure(
          'NotInPool',
          `addresses ${values.map(formatIp).join(', ')} are in different pools ("${poolName}" and "${found}"); a service's addresses come from one pool`,
        );
      }
      poolName = found;
    }
    const state = this.pools.get(poolName!)!;
    if (req.familyPolicy === 'RequireDualStack' && values.length < 2) {
      return failure(
        'InvalidRequest',
        `RequireDualStack needs one IPv4 and one IPv6 address, got ${values.map(formatIp).join(', ')}`,
      );
    }
    if (req.familyPolicy === 'SingleStack' && values.length > 1) {
      return failure(
        'InvalidRequest',
        `a SingleStack service holds one address, got ${values.map(formatIp).join(', ')}`,
      );
    }
    if (req.pool !== undefined && req.pool !== '' && req.pool !== poolName) {
      return failure(
        'NotInPool',
        `address ${values.map(formatIp).join(', ')} is in pool "${poolName}", but the service asks for pool "${req.pool}"`,
      );
    }
    if (!poolAllowsService(state.pool, req)) {
      return failure(
        'PoolNotAllowed',
        `pool "${poolName}" does not serve this service (its serviceAllocation does not match namespace "${req.namespace}" and the service labels)`,
      );
    }
    for (const ip of values) {
      if (state.pool.avoidBuggyIPs && isBuggy(ip)) {
        return failure(
          'NotInPool',
          `address ${formatIp(ip)} ends in .0 or .255, which pool "${poolName}" avoids (avoidBuggyIPs)`,
        );
      }
      const conflict = this.conflictAt(key, ip, request.sharing);
      if (conflict !== undefined) return failure('AddressInUse', conflict);
    }
    const ips = values.map(formatIp);
    if (
      existing !== undefined &&
      existing.pool === poolName &&
      (existing.sharing?.key ?? '') === (request.sharing?.key ?? '') &&
      sameAddresses(existing.addresses, values)
    ) {
      // A re-sync holding the very same addresses: nothing is freed or taken, so no counter moves
      // (callers watch them for releases). Only the order and the sharing details may be new.
      existing.addresses = values.map((v) => ({ ...v }));
      existing.ips = ips;
      existing.sharing = cloneSharing(request.sharing);
      return ok({ ips: [...ips], pool: existing.pool });
    }
    if (existing !== undefined) this.release(key);
    const record: ServiceRecord = {
      key,
      addresses: values.map((v) => ({ ...v })),
      ips,
      pool: poolName!,
      sharing: cloneSharing(request.sharing),
    };
    this.commit(record);
    return ok({ ips: [...record.ips], pool: record.pool });
  }

  /** Why `key` may not hold `ip` next to its current holders, or undefined. */
  private conflictAt(key: string, ip: IpValue, sharing: SharingRequest | undefined): string | undefined {
    const state = this.addresses.get(formatIp(ip));
    if (state === undefined) return undefined;
    for (const holder of state.holders.values()) {
      if (holder.key === key) continue;
      const why = sharingConflict(sharing, holder.sharing);
      if (why !== undefined)
        return `address ${formatIp(ip)} is in use by ${holder.key} and cannot be shared: ${why}`;
    }
    return undefined;
  }

  private commit(record: ServiceRecord): void {
    this.services.set(record.key, record);
    for (const [i, ip] of record.addresses.entries()) {
      const text = record.ips[i]!;
      let state = this.addresses.get(text);
      if (state === undefined) {
        const sharingKey = record.sharing?.key ?? '';
        state = { ip, pool: record.pool, sharingKey, holders: new Map() };
        this.addresses.set(text, state);
        const pool = this.pools.get(record.pool)!;
        pool.free.get(ip.family)?.delete(ip.value);
        pool.inUse.set(ip.family, (pool.inUse.get(ip.family) ?? 0n) + 1n);
        this.changes++;
        if (sharingKey !== '') {
          let held = this.sharingIndex.get(sharingKey);
          if (held === undefined) this.sharingIndex.set(sharingKey, (held = new Set()));
          held.add(text);
        }
      }
      state.holders.set(record.key, record);
    }
  }

  /**
   * PreferDualStack settles for one family when the pools run short; once held, that would stay
   * single-family for good. Whenever such a service is synced, try to add the missing family from
   * the pool it already uses (a service's addresses come from one pool). Undefined = nothing to try.
   */
  private addMissingFamily(
    key: string,
    existing: ServiceRecord,
    request: CheckedRequest,
  ): Result<Assignment, AllocationError> | undefined {
    if (request.req.familyPolicy !== 'PreferDualStack') return undefined;
    const missing = request.families.filter((f) => !existing.addresses.some((a) => a.family === f));
    if (missing.length === 0 || missing.length === request.families.length) return undefined;
    const state = this.pools.get(existing.pool);
    if (state === undefined) return undefined;
    const values = [...existing.addresses];
    for (const family of missing) {
      if (!state.free.has(family)) return undefined;
      const ip = this.pick(key, state, family, request.sharing);
      if (ip === undefined) return undefined;
      values.push(ip);
    }
    values.sort((a, b) => request.families.indexOf(a.family) - request.families.indexOf(b.family));
    return this.place(key, values, request, existing);
  }

  /** Tries pools in order; the first that can serve every needed family wins. */
  private fromPools(
    key: string,
    candidates: PoolState[],
    request: CheckedRequest,
    what: string,
  ): Result<Assignment, AllocationError> {
    const wanted = request.families;
    const attempts: Family[][] =
      request.req.familyPolicy === 'PreferDualStack' && wanted.length === 2
        ? [wanted, [wanted[0]!], [wanted[1]!]]
        : [wanted];
    const exhausted: string[] = [];
    let familyServed = false;
    for (const families of attempts) {
      for (const state of candidates) {
        if (!families.every((f) => state.free.has(f))) continue;
        familyServed = true;
        const picked: IpValue[] = [];
        for (const family of families) {
          const ip = this.pick(key, state, family, request.sharing);
          if (ip === undefined) {
            const inUse = state.inUse.get(family) ?? 0n;
            const total = state.total.get(family) ?? 0n;
            exhausted.push(
              `pool "${state.pool.name}" is exhausted: ${inUse} of ${total} ${familyName(family)} addresses in use`,
            );
            break;
          }
          picked.push(ip);
        }
        if (picked.length !== families.length) continue;
        return this.place(key, picked, request, this.services.get(key));
      }
    }
    if (!familyServed) {
      const need =
        request.req.familyPolicy === 'RequireDualStack'
          ? 'both IPv4 and IPv6'
          : wanted.map(familyName).join(' or ');
      return failure('NoPoolForFamily', `no pool with ${need} addresses is available (looked at ${what})`);
    }
    return failure('PoolExhausted', [...new Set(exhausted)].join('; '));
  }

  /** An address of `family` in `state` for this service: a shareable one first, else the lowest free one. */
  private pick(
    key: string,
    state: PoolState,
    family: Family,
    sharing: SharingRequest | undefined,
  ): IpValue | undefined {
    if (sharing !== undefined && sharing.key !== '') {
      const held = this.sharingIndex.get(sharing.key);
      if (held !== undefined) {
        for (const text of held) {
          const address = this.addresses.get(text)!;
          if (address.pool !== state.pool.name || address.ip.family !== family) continue;
          if (this.conflictAt(key, address.ip, sharing) === undefined) return address.ip;
        }
      }
    }
    const free = state.free.get(family);
    if (free === undefined) return undefined;
    for (;;) {
      const lowest = free.min();
      if (lowest === undefined) return undefined;
      if (!state.pool.avoidBuggyIPs || family !== 4) return { family, value: lowest.start };
      let candidate = lowest.start;
      const last = candidate & 255n;
      if (last === 255n) candidate += 2n;
      else if (last === 0n) candidate += 1n;
      if (candidate <= lowest.end) return { family, value: candidate };
      // Only .255/.0 addresses left in this interval: drop them for good, since this pool never
      // hands them out; each interval is dropped at most once, so the cost is amortised.
      free.deleteInterval(lowest.start);
    }
  }
}

function checkRequest(req: ServiceRequest): Result<CheckedRequest, AllocationError> {
  if (typeof req !== 'object' || req === null)
    return failure('InvalidRequest', 'the service request is missing');
  if (
    !Array.isArray(req.families) ||
    req.families.length === 0 ||
    req.families.length > 2 ||
    req.families.some((f) => f !== 4 && f !== 6)
  ) {
    return failure(
      'InvalidRequest',
      `ipFamilies must list IPv4 and/or IPv6 once each, got ${JSON.stringify(req.families)}`,
    );
  }
  if (req.families.length === 2 && req.families[0] === req.families[1]) {
    return failure('InvalidRequest', `ipFamilies lists ${familyName(req.families[0]!)} twice`);
  }
  let families: Family[];
  switch (req.familyPolicy) {
    case 'SingleStack':
      families = [req.families[0]!];
      break;
    case 'RequireDualStack':
      if (req.families.length !== 2)
        return failure('InvalidRequest', 'RequireDualStack needs ipFamilies with both IPv4 and IPv6');
      families = [...req.families];
      break;
    case 'PreferDualStack':
      families = [...req.families];
      break;
    default:
      return failure('InvalidRequest', `unknown ipFamilyPolicy ${JSON.stringify(req.familyPolicy)}`);
  }
  if (!Array.isArray(req.requestedIPs)) return failure('InvalidRequest', 'requestedIPs must be a list');
  const requested: IpValue[] = [];
  for (const text of req.requestedIPs) {
    const parsed = typeof text === 'string' ? parseIp(text.trim()) : err('not a string');
    if (!parsed.ok)
      return failure('InvalidRequest', `requested address "${String(text)}" is ${parsed.error}`);
    if (requested.some((r) => r.family === parsed.value.family)) {
      return failure(
        'InvalidRequest',
        `at most one address per family may be requested; ${req.requestedIPs.join(', ')} has two ${familyName(parsed.value.family)} addresses (spec.loadBalancerIP and the loadBalancerIPs annotation cannot both be set)`,
      );
    }
    if (!families.includes(parsed.value.family)) {
      return failure(
        'InvalidRequest',
        `requested address ${formatIp(parsed.value)} is ${familyName(parsed.value.family)}, but the service's families are ${families.map(familyName).join(', ')}`,
      );
    }
    requested.push(parsed.value);
  }
  if (req.familyPolicy === 'RequireDualStack' && requested.length === 1) {
    return failure(
      'InvalidRequest',
      `RequireDualStack needs one IPv4 and one IPv6 address; only ${formatIp(requested[0]!)} was requested`,
    );
  }
  const sharing = req.sharing;
  if (sharing !== undefined) {
    if (
      typeof sharing.key !== 'string' ||
      typeof sharing.backend !== 'string' ||
      !Array.isArray(sharing.ports)
    ) {
      return failure('InvalidRequest', 'sharing needs a key, a backend and a list of ports');
    }
    for (const p of sharing.ports) {
      if (typeof p?.protocol !== 'string' || !Number.isInteger(p?.port)) {
        return failure('InvalidRequest', `port ${JSON.stringify(p)} needs a protocol and an integer port`);
      }
    }
  }
  return ok({ req, families, requested, sharing });
}
