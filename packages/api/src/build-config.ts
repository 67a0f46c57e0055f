import { buildPoolSet, matchesSelector, validateSelector } from '@metallb-ts/ipam';
import type { LabelSelector, Pool, PoolSpec, ServiceAllocation } from '@metallb-ts/ipam';
import type { AddressPool, IPAddressPool, L2Advertisement } from './types.js';

export type PoolObjectKind = 'AddressPool' | 'IPAddressPool' | 'L2Advertisement';

/** A problem with one object; the message reads `Kind namespace/name: field "value": reason`. */
export interface ObjectError {
  kind: PoolObjectKind;
  namespace: string;
  name: string;
  field: string;
  value: unknown;
  reason: string;
  message: string;
  /**
   * True when the object is still used without the faulty part (an L2Advertisement naming a pool
   * that does not exist keeps serving the pools that do); otherwise the object is left out.
   */
  partial?: boolean;
}

/** Which pools are announced from which nodes, on which interfaces (empty = all). */
export interface L2Rule {
  /** The object the rule came from. */
  source: { kind: 'AddressPool' | 'L2Advertisement'; namespace: string; name: string };
  pools: string[];
  /** Empty = every node; otherwise a node must match at least one. */
  nodeSelectors: LabelSelector[];
  interfaces: string[];
  /** Empty = every service; otherwise a service must match at least one. */
  serviceSelectors: LabelSelector[];
}

/** A served pool and the object it was read from (names are unique among served pools). */
export interface ConfigPool extends Pool {
  readonly source: { kind: 'AddressPool' | 'IPAddressPool'; namespace: string; name: string };
}

export interface Config {
  pools: ConfigPool[];
  l2: L2Rule[];
}

export interface PoolObjects {
  addressPools: AddressPool[];
  ipAddressPools: IPAddressPool[];
  l2Advertisements: L2Advertisement[];
}

/** ` "text"` or ` <json>` (cut at 200 characters), or nothing for undefined: the value part of a message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return ` "${value.length > 200 ? value.slice(0, 200) + '…' : value}"`;
  if (value === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return ` ${text.length > 200 ? text.slice(0, 200) + '…' : text}`;
}

function objectError(
  kind: PoolObjectKind,
  namespace: string,
  name: string,
  field: string,
  value: unknown,
  reason: string,
): ObjectError {
  return {
    kind,
    namespace,
    name,
    field,
    value,
    reason,
    message: `${kind} ${namespace}/${name}: ${field}${show(value)}: ${reason}`,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Identity {
  kind: PoolObjectKind;
  namespace: string;
  name: string;
}

function identify(kind: PoolObjectKind, obj: unknown): Identity | ObjectError {
  const meta = isRecord(obj) ? obj.metadata : undefined;
  const name = isRecord(meta) ? meta.name : undefined;
  const namespace = isRecord(meta) && typeof meta.namespace === 'string' ? meta.namespace : '';
  if (typeof name !== 'string' || name === '') {
    return objectError(
      kind,
      namespace,
      typeof name === 'string' ? name : '<unnamed>',
      'metadata.name',
      name,
      'a name is required',
    );
  }
  return { kind, namespace, name };
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

interface PoolCandidate {
  id: Identity;
  /**
   * Tie-breaker for objects with the same identity (impossible in a real cluster, but keeps the
   * result order-free). Read only on a tie: writing out every object on every build was a large
   * part of a reload of big pools.
   */
  content: () => string;
  /** `metadata.creationTimestamp` in ms (unset or unreadable = 0, i.e. oldest). */
  created: number;
  labels: Record<string, string>;
  spec: PoolSpec;
  legacyLayer2: boolean;
}

type Fail = (field: string, value: unknown, reason: string) => undefined;

/**
 * A named object and ways to report on it: `fail` for an error that leaves the object out,
 * `note` for one that leaves it in use (`partial`).
 */
function reporterFor(
  kind: PoolObjectKind,
  obj: unknown,
  errors: ObjectError[],
): { id: Identity; fail: Fail; note: (field: string, value: unknown, reason: string) => void } | undefined {
  const id = identify(kind, obj);
  if ('message' in id) return void errors.push(id);
  const error = (field: string, value: unknown, reason: string) =>
    objectError(id.kind, id.namespace, id.name, field, value, reason);
  return {
    id,
    fail: (field, value, reason) => void errors.push(error(field, value, reason)),
    note: (field, value, reason) => void errors.push({ ...error(field, value, reason), partial: true }),
  };
}

/** What both pool kinds start with: a named object with a spec, and a way to report on it. */
function readPoolObject(
  kind: PoolObjectKind,
  obj: unknown,
  errors: ObjectError[],
): { id: Identity; spec: Record<string, unknown>; fail: Fail } | undefined {
  const reporter = reporterFor(kind, obj, errors);
  if (!reporter) return undefined;
  const { id, fail } = reporter;
  const spec = (obj as Record<string, unknown>).spec;
  if (!isRecord(spec)) return fail('spec', spec, 'spec is required');
  return { id, spec, fail };
}

/** `spec.addresses` and `spec.autoAssign`, the fields both pool kinds have. */
function readAddressFields(
  spec: Record<string, unknown>,
  fail: Fail,
): { addresses: string[]; autoAssign: boolean } | undefined {
  if (!stringList(spec.addresses))
    return fail('spec.addresses', spec.addresses, 'must be a list of addresses, ranges or CIDRs');
  const autoAssign = spec.autoAssign ?? true;
  if (typeof autoAssign !== 'boolean')
    return fail('spec.autoAssign', spec.autoAssign, 'must be true or false');
  return { addresses: spec.addresses, autoAssign };
}

function candidate(id: Identity, obj: unknown, spec: PoolSpec, legacyLayer2: boolean): PoolCandidate {
  return {
    id,
    content: () => stableText(obj),
    created: createdAt(obj),
    labels: labelsOf(obj),
    spec,
    legacyLayer2,
  };
}

function readAddressPool(obj: unknown, errors: ObjectError[]): PoolCandidate | undefined {
  const read = readPoolObject('AddressPool', obj, errors);
  if (!read) return undefined;
  const { id, spec, fail } = read;
  if (spec.protocol === 'bgp')
    return fail('spec.protocol', spec.protocol, 'metallb-ts is layer 2 only; bgp pools are not supported');
  if (spec.protocol !== 'layer2')
    return fail('spec.protocol', spec.protocol, 'must be layer2 (bgp is not supported)');
  if (
    spec.bgpAdvertisements !== undefined &&
    !(Array.isArray(spec.bgpAdvertisements) && spec.bgpAdvertisements.length === 0)
  ) {
    return fail(
      'spec.bgpAdvertisements',
      spec.bgpAdvertisements,
      'only valid with protocol bgp; this is a layer2 pool',
    );
  }
  const fields = readAddressFields(spec, fail);
  if (!fields) return undefined;
  return candidate(id, obj, { name: id.name, ...fields, avoidBuggyIPs: false }, true);
}

function labelsOf(obj: unknown): Record<string, string> {
  const meta = isRecord(obj) ? obj.metadata : undefined;
  const labels = isRecord(meta) ? meta.labels : undefined;
  if (!isRecord(labels)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

function createdAt(obj: unknown): number {
  const meta = isRecord(obj) ? obj.metadata : undefined;
  const stamp = isRecord(meta) ? meta.creationTimestamp : undefined;
  const ms = typeof stamp === 'string' ? Date.parse(stamp) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

function readIPAddressPool(obj: unknown, errors: ObjectError[]): PoolCandidate | undefined {
  const read = readPoolObject('IPAddressPool', obj, errors);
  if (!read) return undefined;
  const { id, spec, fail } = read;
  const fields = readAddressFields(spec, fail);
  if (!fields) return undefined;
  const avoidBuggyIPs = spec.avoidBuggyIPs ?? false;
  if (typeof avoidBuggyIPs !== 'boolean')
    return fail('spec.avoidBuggyIPs', spec.avoidBuggyIPs, 'must be true or false');
  const poolSpec: PoolSpec = { name: id.name, ...fields, avoidBuggyIPs };
  // buildPoolSet validates serviceAllocation in depth; here it is only passed through.
  if (spec.serviceAllocation !== undefined && spec.serviceAllocation !== null)
    poolSpec.serviceAllocation = spec.serviceAllocation as ServiceAllocation;
  return candidate(id, obj, poolSpec, false);
}

function readSelectors(value: unknown, field: string, fail: Fail): LabelSelector[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(field, value, 'must be a list of label selectors');
  const out: LabelSelector[] = [];
  for (let i = 0; i < value.length; i++) {
    const checked = validateSelector(value[i]);
    if (!checked.ok) {
      const sub = checked.error.field === '' ? '' : `.${checked.error.field}`;
      return fail(`${field}[${i}]${sub}`, checked.error.value, checked.error.reason);
    }
    out.push(checked.value);
  }
  return out;
}

/**
 * Turns the set of pool objects into one validated config. Objects with errors are reported and
 * left out (with one exception: an L2Advertisement naming a pool that does not exist still applies
 * to the pools it names that do); everything else stays usable. AddressPool and IPAddressPool
 * names share one namespace. Pure and deterministic: the result does not depend on input order.
 */
export function buildConfig(objs: PoolObjects): { config: Config; errors: ObjectError[] } {
  const errors: ObjectError[] = [];
  const candidates: PoolCandidate[] = [];
  const addressPools = isRecord(objs) && Array.isArray(objs.addressPools) ? objs.addressPools : [];
  const ipAddressPools = isRecord(objs) && Array.isArray(objs.ipAddressPools) ? objs.ipAddressPools : [];
  const l2Advertisements =
    isRecord(objs) && Array.isArray(objs.l2Advertisements) ? objs.l2Advertisements : [];
  for (const obj of addressPools) {
    const c = readAddressPool(obj, errors);
    if (c) candidates.push(c);
  }
  for (const obj of ipAddressPools) {
    const c = readIPAddressPool(obj, errors);
    if (c) candidates.push(c);
  }
  // Who wins a conflict (duplicate name, overlapping addresses) must not depend on list order and
  // must not change when a pool is added: the oldest object wins, so a new pool that overlaps one
  // in use is the one reported, and the Services of the older pool keep their addresses. Ties
  // (same second, or no timestamp) fall back to kind (AddressPool first), namespace, name.
  candidates.sort(
    (a, b) =>
      a.created - b.created ||
      compareText(a.id.kind, b.id.kind) ||
      compareText(a.id.namespace, b.id.namespace) ||
      compareText(a.id.name, b.id.name) ||
      compareText(a.content(), b.content()),
  );

  const byName = new Map<string, PoolCandidate>();
  const unique: PoolCandidate[] = [];
  for (const c of candidates) {
    const first = byName.get(c.id.name);
    if (first) {
      errors.push(
        objectError(
          c.id.kind,
          c.id.namespace,
          c.id.name,
          'metadata.name',
          c.id.name,
          `the name is already used by ${first.id.kind} ${first.id.namespace}/${first.id.name}; AddressPool and IPAddressPool names must be unique together`,
        ),
      );
      continue;
    }
    byName.set(c.id.name, c);
    unique.push(c);
  }
  const built = buildPoolSet(unique.map((c) => c.spec));
  const poolErrors = built.errors;
  // Served pools are listed by name whatever their age.
  const pools: ConfigPool[] = built.pools
    .map((p) => {
      const { kind, namespace, name } = byName.get(p.name)!.id;
      return { ...p, source: { kind: kind as ConfigPool['source']['kind'], namespace, name } };
    })
    .sort((a, b) => compareText(a.name, b.name));
  for (const e of poolErrors) {
    const c = byName.get(e.pool);
    if (c) errors.push(objectError(c.id.kind, c.id.namespace, c.id.name, e.field, e.value, e.reason));
  }
  const valid = new Set(pools.map((p) => p.name));

  const l2: L2Rule[] = [];
  for (const c of unique) {
    if (c.legacyLayer2 && valid.has(c.id.name)) {
      l2.push({
        source: { kind: 'AddressPool', namespace: c.id.namespace, name: c.id.name },
        pools: [c.id.name],
        nodeSelectors: [],
        interfaces: [],
        serviceSelectors: [],
      });
    }
  }
  const advertisable = unique.filter((c) => !c.legacyLayer2 && valid.has(c.id.name));
  const rules: L2Rule[] = [];
  for (const obj of l2Advertisements) {
    const rule = readL2Advertisement(obj, advertisable, byName, valid, errors);
    if (rule) rules.push(rule);
  }
  rules.sort(
    (a, b) =>
      compareText(a.source.name, b.source.name) ||
      compareText(a.source.namespace, b.source.namespace) ||
      compareText(stableText(a), stableText(b)),
  );
  l2.push(...rules);
  errors.sort(
    (a, b) =>
      compareText(a.kind, b.kind) ||
      compareText(a.name, b.name) ||
      compareText(a.namespace, b.namespace) ||
      compareText(a.field, b.field) ||
      compareText(a.message, b.message),
  );
  return { config: { pools, l2 }, errors };
}

function stableText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readL2Advertisement(
  obj: unknown,
  advertisable: PoolCandidate[],
  byName: Map<string, PoolCandidate>,
  valid: Set<string>,
  errors: ObjectError[],
): L2Rule | undefined {
  const reporter = reporterFor('L2Advertisement', obj, errors);
  if (!reporter) return undefined;
  const { id, fail, note } = reporter;
  const spec = (obj as Record<string, unknown>).spec ?? {};
  if (!isRecord(spec)) return fail('spec', spec, 'must be an object');
  const names = spec.ipAddressPools ?? [];
  if (!stringList(names))
    return fail('spec.ipAddressPools', spec.ipAddressPools, 'must be a list of IPAddressPool names');
  const poolSelectors = readSelectors(spec.ipAddressPoolSelectors, 'spec.ipAddressPoolSelectors', fail);
  if (poolSelectors === undefined) return undefined;
  const nodeSelectors = readSelectors(spec.nodeSelectors, 'spec.nodeSelectors', fail);
  if (nodeSelectors === undefined) return undefined;
  const serviceSelectors = readSelectors(spec.serviceSelectors, 'spec.serviceSelectors', fail);
  if (serviceSelectors === undefined) return undefined;
  const interfaces = spec.interfaces ?? [];
  if (!stringList(interfaces) || interfaces.some((i) => i === ''))
    return fail('spec.interfaces', spec.interfaces, 'must be a list of interface names');

  const pools = new Set<string>();
  if (names.length === 0 && poolSelectors.length === 0) {
    for (const c of advertisable) pools.add(c.id.name);
  } else {
    names.forEach((name, i) => {
      const field = `spec.ipAddressPools[${i}]`;
      if (!byName.has(name)) note(field, name, 'no such IPAddressPool');
      else if (!valid.has(name)) note(field, name, 'that pool has errors and is not in use');
      else pools.add(name);
    });
    for (const c of advertisable)
      if (poolSelectors.some((s) => matchesSelector(s, c.labels))) pools.add(c.id.name);
  }
  return {
    source: { kind: 'L2Advertisement', namespace: id.namespace, name: id.name },
    pools: [...pools].sort(),
    nodeSelectors: structuredClone(nodeSelectors),
    interfaces: [...new Set(interfaces)].sort(),
    serviceSelectors: structuredClone(serviceSelectors),
  };
}

/**
 * Whether `node` announces addresses of `poolName`, and on which interfaces (empty = all).
 * Passing `service` also applies the advertisements' serviceSelectors.
 */
export function l2AnnouncementFor(
  config: Config,
  poolName: string,
  node: { name: string; labels: Record<string, string> },
  service?: { labels: Record<string, string> },
): { announce: boolean; interfaces: string[] } {
  let announce = false;
  let everyInterface = false;
  const interfaces = new Set<string>();
  for (const rule of config.l2) {
    if (!rule.pools.includes(poolName)) continue;
    if (rule.nodeSelectors.length > 0 && !rule.nodeSelectors.some((s) => matchesSelector(s, node.labels)))
      continue;
    if (
      service !== undefined &&
      rule.serviceSelectors.length > 0 &&
      !rule.serviceSelectors.some((s) => matchesSelector(s, service.labels))
    )
      continue;
    announce = true;
    if (rule.interfaces.length === 0) everyInterface = true;
    for (const i of rule.interfaces) interfaces.add(i);
  }
  return { announce, interfaces: announce && !everyInterface ? [...interfaces].sort() : [] };
}
