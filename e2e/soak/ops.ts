// The soak's operations: chosen from the seed and the model alone (so a seed replays the same
// run), and their effect on the model. Pure; `driver.ts` performs them against the lab.
import {
  eligible,
  freeSlots,
  OTHER_CLASS,
  servedPools,
  V4_SLOTS,
  V6_SLOTS,
  type FamilyPolicy,
  type Model,
  type ModelAdvert,
  type ModelPool,
  type ModelService,
  type ServiceType,
} from './model.js';
import { parseEntry } from './addresses.js';
import type { Rng } from './rng.js';

export type Chaos =
  | { kind: 'controller-restart'; signal: 'SIGKILL' | 'SIGTERM' }
  | { kind: 'speaker-restart'; node: string; signal: 'SIGKILL' | 'SIGTERM' }
  | { kind: 'apiserver-restart' }
  | { kind: 'etcd-restart' }
  | { kind: 'link-flap'; node: string; downMs: number };

export type Op =
  | { kind: 'service-apply'; service: ModelService; why: string }
  | { kind: 'service-delete'; name: string }
  | { kind: 'pool-apply'; pool: ModelPool; why: string }
  | { kind: 'pool-delete'; name: string }
  | { kind: 'advert-apply'; advert: ModelAdvert; why: string }
  | { kind: 'advert-delete'; name: string }
  | { kind: 'chaos'; chaos: Chaos };

export const NODES = ['node-1', 'node-2', 'node-3'] as const;
const MAX_SERVICES = 14;
const MAX_POOLS = 6;
const PORTS = [80, 443, 8080, 53] as const;
const SHARE_KEYS = ['k1', 'k2'] as const;

export interface OpWeights {
  service: number;
  pool: number;
  advert: number;
  malformed: number;
  controller: number;
  speaker: number;
  link: number;
  apiserver: number;
  etcd: number;
}

export const DEFAULT_WEIGHTS: OpWeights = {
  service: 55,
  pool: 12,
  advert: 6,
  malformed: 7,
  controller: 5,
  speaker: 5,
  link: 4,
  apiserver: 1,
  etcd: 1,
};

/** A human line for an op (the soak's step log). */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'service-apply':
      return `service ${op.service.name}: ${op.why} ${JSON.stringify(op.service)}`;
    case 'pool-apply':
      return `pool ${op.pool.name}: ${op.why} ${JSON.stringify(op.pool.entries)} autoAssign=${op.pool.autoAssign}`;
    case 'advert-apply':
      return `l2advertisement ${op.advert.name}: ${op.why} pools=${JSON.stringify(op.advert.pools)}`;
    case 'service-delete':
    case 'pool-delete':
    case 'advert-delete':
      return `${op.kind} ${op.name}`;
    case 'chaos':
      return `chaos ${JSON.stringify(op.chaos)}`;
  }
}

/** The next operation, from the seed's stream and the model only. */
export function nextOp(rng: Rng, model: Model, weights: OpWeights = DEFAULT_WEIGHTS): Op {
  // Nothing to allocate from yet: the first steps build a pool and an advertisement.
  if (model.pools.size === 0) return createPool(rng, model);
  if (model.adverts.size === 0)
    return { kind: 'advert-apply', advert: { name: 'adv-all', pools: 'all' }, why: 'create' };
  switch (rng.weighted(weights)) {
    case 'service':
      return serviceOp(rng, model);
    case 'pool':
      return poolOp(rng, model);
    case 'advert':
      return advertOp(rng, model);
    case 'malformed':
      return malformedOp(rng, model);
    case 'controller':
      return {
        kind: 'chaos',
        chaos: { kind: 'controller-restart', signal: rng.pick(['SIGKILL', 'SIGTERM']) },
      };
    case 'speaker':
      return {
        kind: 'chaos',
        chaos: { kind: 'speaker-restart', node: rng.pick(NODES), signal: rng.pick(['SIGKILL', 'SIGTERM']) },
      };
    case 'link':
      return {
        kind: 'chaos',
        chaos: { kind: 'link-flap', node: rng.pick(NODES), downMs: 200 + rng.int(1500) },
      };
    case 'apiserver':
      return { kind: 'chaos', chaos: { kind: 'apiserver-restart' } };
    case 'etcd':
      return { kind: 'chaos', chaos: { kind: 'etcd-restart' } };
  }
}

const fresh = (model: Model, prefix: string): string => `${prefix}-${model.serial}`;

function slotEntry(rng: Rng, slot: string): string {
  if (rng.chance(0.5)) return slot;
  const span = parseEntry(slot)!;
  const fmt = (v: bigint): string =>
    span.family === 4
      ? [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
      : `2001:db8:1::${(v & 0xffffn).toString(16)}`;
  return `${fmt(span.lo)}-${fmt(span.hi)}`;
}

function createPool(rng: Rng, model: Model): Op {
  const v4 = freeSlots(model, V4_SLOTS);
  const v6 = freeSlots(model, V6_SLOTS);
  if (v4.length === 0 || model.pools.size >= MAX_POOLS) return deleteSomething(rng, model);
  const entries = [slotEntry(rng, rng.pick(v4))];
  if (v6.length > 0 && rng.chance(0.5)) entries.push(slotEntry(rng, rng.pick(v6)));
  const pool: ModelPool = {
    name: fresh(model, 'pool'),
    order: model.serial,
    entries,
    autoAssign: model.pools.size === 0 || rng.chance(0.8),
    kind: 'normal',
  };
  return { kind: 'pool-apply', pool, why: 'create' };
}

function deleteSomething(rng: Rng, model: Model): Op {
  const pools = [...model.pools.keys()];
  return { kind: 'pool-delete', name: rng.pick(pools) };
}

function poolOp(rng: Rng, model: Model): Op {
  const normal = [...model.pools.values()].filter((p) => p.kind === 'normal');
  const what = rng.weighted({ create: 3, grow: 3, shrink: 3, delete: 2, overlap: 1, repair: 2 });
  if (what === 'create' || normal.length === 0) return createPool(rng, model);
  const p = rng.pick(normal);
  const served = servedPools(model).get(p.name) ?? p.entries;
  switch (what) {
    case 'grow': {
      const v4 = freeSlots(model, V4_SLOTS);
      const v6 = freeSlots(model, V6_SLOTS);
      const choices = [...v4, ...v6];
      if (choices.length === 0) return deleteSomething(rng, model);
      return {
        kind: 'pool-apply',
        pool: { ...p, entries: [...served, slotEntry(rng, rng.pick(choices))], lastValid: undefined },
        why: 'grow',
      };
    }
    case 'shrink': {
      if (served.length < 2) return createPool(rng, model);
      const drop = rng.int(served.length);
      return {
        kind: 'pool-apply',
        pool: { ...p, entries: served.filter((_, i) => i !== drop), lastValid: undefined },
        why: 'shrink',
      };
    }
    case 'delete':
      return { kind: 'pool-delete', name: p.name };
    case 'overlap': {
      // Only over a pool served as written: what a stale pool conflicts with is not this test's subject.
      if (!p.entries.every((e) => parseEntry(e) !== undefined)) return createPool(rng, model);
      const target = served[rng.int(served.length)]!;
      const pool: ModelPool = {
        name: `zz-overlap-${model.serial}`,
        order: model.serial,
        entries: [target],
        autoAssign: true,
        kind: 'overlap',
      };
      return { kind: 'pool-apply', pool, why: `create overlapping ${p.name}` };
    }
    case 'repair':
      // Rewrites the pool as it is served (fixes an edit left broken by a malformed step).
      return {
        kind: 'pool-apply',
        pool: { ...p, entries: served, lastValid: undefined },
        why: 'rewrite as served',
      };
  }
}

function advertOp(rng: Rng, model: Model): Op {
  const adverts = [...model.adverts.values()];
  const what = rng.weighted({ create: 2, patch: 2, delete: 1 });
  const pools = [...model.pools.keys()];
  const somePools = (): readonly string[] | 'all' =>
    rng.chance(0.3) ? 'all' : [...new Set([...pools.filter(() => rng.chance(0.6)), rng.pick(pools)])];
  if (what === 'delete' && adverts.length > 1) return { kind: 'advert-delete', name: rng.pick(adverts).name };
  if (what === 'patch' && adverts.length > 0) {
    const a = rng.pick(adverts);
    return { kind: 'advert-apply', advert: { ...a, pools: somePools() }, why: 'change pools' };
  }
  return { kind: 'advert-apply', advert: { name: fresh(model, 'adv'), pools: somePools() }, why: 'create' };
}

function malformedOp(rng: Rng, model: Model): Op {
  const what = rng.weighted({ garbagePool: 2, brokenEdit: 2, badAdvert: 1, badService: 2 });
  switch (what) {
    case 'garbagePool': {
      const entries = rng.pick([
        ['203.0.113.999/24'],
        ['banana'],
        ['203.0.113.60-203.0.113.50'],
        ['2001:db8:1::zz/120'],
        ['203.0.113.0/33'],
      ]);
      return {
        kind: 'pool-apply',
        pool: {
          name: `bad-${model.serial}`,
          order: model.serial,
          entries,
          autoAssign: true,
          kind: 'garbage',
        },
        why: 'malformed create',
      };
    }
    case 'brokenEdit': {
      const overlapped = new Set(
        [...model.pools.values()].filter((p) => p.kind === 'overlap').flatMap((p) => p.entries),
      );
      const served = servedPools(model);
      const candidates = [...model.pools.values()].filter(
        (p) =>
          p.kind === 'normal' && served.has(p.name) && !served.get(p.name)!.some((e) => overlapped.has(e)),
      );
      if (candidates.length === 0) return serviceOp(rng, model);
      const p = rng.pick(candidates);
      // A reversed range: well-formed enough for the API, refused by the controller, so the pool
      // must keep serving what it served before.
      return {
        kind: 'pool-apply',
        pool: { ...p, entries: ['203.0.113.250-203.0.113.240'], lastValid: served.get(p.name) },
        why: 'malformed edit (reversed range)',
      };
    }
    case 'badAdvert':
      return {
        kind: 'advert-apply',
        advert: { name: fresh(model, 'adv-bad'), pools: ['no-such-pool'] },
        why: 'names a missing pool',
      };
    case 'badService':
      return serviceOp(rng, model, true);
  }
}

function randomPorts(rng: Rng): number[] {
  const n = 1 + rng.int(2);
  const ports = new Set<number>();
  while (ports.size < n) ports.add(rng.pick(PORTS));
  return [...ports].sort((a, b) => a - b);
}

function requestFor(
  rng: Rng,
  model: Model,
  s: Pick<ModelService, 'family' | 'policy'>,
  malformed: boolean,
): string {
  if (malformed)
    return rng.pick(['not-an-ip', '203.0.113.999', '203.0.113.11,203.0.113.12', '198.51.100.77']);
  const served = [...servedPools(model).values()].flat();
  const pickFamily = (fam: 4 | 6): string | undefined => {
    const spans = served.map(parseEntry).filter((x) => x?.family === fam);
    if (spans.length === 0) return undefined;
    const span = rng.pick(spans)!;
    const v = span.lo + BigInt(rng.int(Number(span.hi - span.lo) + 1));
    return fam === 4
      ? [24n, 16n, 8n, 0n].map((sh) => String((v >> sh) & 255n)).join('.')
      : `2001:db8:1::${(v & 0xffffn).toString(16)}`;
  };
  const primary = s.family === 'IPv4' ? 4 : 6;
  const first = pickFamily(primary) ?? (primary === 4 ? '203.0.113.77' : '2001:db8:1::77');
  if (s.policy !== 'SingleStack' && rng.chance(0.5)) {
    const second = pickFamily(primary === 4 ? 6 : 4);
    if (second) return `${first},${second}`;
  }
  return first;
}

function randomService(rng: Rng, model: Model, name: string): ModelService {
  const family = rng.chance(0.8) ? 'IPv4' : 'IPv6';
  const policy = rng.weighted<FamilyPolicy>({ SingleStack: 6, PreferDualStack: 2, RequireDualStack: 1 });
  const pools = [...model.pools.keys()];
  const base: ModelService = {
    name,
    type: 'LoadBalancer',
    etp: rng.chance(0.8) ? 'Cluster' : 'Local',
    family,
    policy,
    ports: randomPorts(rng),
    ...(rng.chance(0.08) ? { lbClass: OTHER_CLASS } : {}),
    ...(rng.chance(0.3) && pools.length > 0 ? { pool: rng.pick(pools) } : {}),
    ...(rng.chance(0.35) ? { shareKey: rng.pick(SHARE_KEYS) } : {}),
  };
  return rng.chance(0.15) ? { ...base, requested: requestFor(rng, model, base, false) } : base;
}

function serviceOp(rng: Rng, model: Model, malformed = false): Op {
  const services = [...model.services.values()];
  const create = services.length === 0 || (services.length < MAX_SERVICES && rng.chance(0.35));
  if (create && !malformed) {
    const name = fresh(model, 'svc');
    return { kind: 'service-apply', service: randomService(rng, model, name), why: 'create' };
  }
  if (services.length === 0)
    return { kind: 'service-apply', service: randomService(rng, model, fresh(model, 'svc')), why: 'create' };
  const s = rng.pick(services);
  if (malformed) {
    const bad = rng.weighted({ ip: 3, pool: 1, both: 1 });
    if (bad === 'pool')
      return { kind: 'service-apply', service: { ...s, pool: 'no-such-pool' }, why: 'names a missing pool' };
    return {
      kind: 'service-apply',
      service: { ...s, requested: requestFor(rng, model, s, true) },
      why: bad === 'both' ? 'bad requested IPs (twice)' : 'bad requested IPs',
    };
  }
  const what = rng.weighted({
    delete: 3,
    type: 2,
    request: 2,
    pool: 2,
    share: 2,
    ports: 2,
    etp: 1,
    policy: 1,
  });
  const pools = [...model.pools.keys()];
  switch (what) {
    case 'delete':
      return { kind: 'service-delete', name: s.name };
    case 'type': {
      const type = rng.pick<ServiceType>(
        ['LoadBalancer', 'ClusterIP', 'NodePort'].filter((t) => t !== s.type) as ServiceType[],
      );
      // loadBalancerClass is only settable while not a LoadBalancer or when becoming one.
      const { lbClass: _drop, ...rest } = s;
      const next: ModelService =
        type === 'LoadBalancer' && rng.chance(0.15)
          ? { ...rest, type, lbClass: OTHER_CLASS }
          : { ...rest, type };
      return { kind: 'service-apply', service: next, why: `type ${s.type} -> ${type}` };
    }
    case 'request': {
      const { requested: _r, ...rest } = s;
      return rng.chance(0.4)
        ? { kind: 'service-apply', service: rest, why: 'drop requested IPs' }
        : {
            kind: 'service-apply',
            service: { ...s, requested: requestFor(rng, model, s, false) },
            why: 'request IPs',
          };
    }
    case 'pool': {
      const { pool: _p, ...rest } = s;
      return rng.chance(0.4) || pools.length === 0
        ? { kind: 'service-apply', service: rest, why: 'drop pool annotation' }
        : { kind: 'service-apply', service: { ...s, pool: rng.pick(pools) }, why: 'set pool annotation' };
    }
    case 'share': {
      const { shareKey: _k, ...rest } = s;
      return rng.chance(0.3)
        ? { kind: 'service-apply', service: rest, why: 'drop sharing key' }
        : {
            kind: 'service-apply',
            service: { ...s, shareKey: rng.pick(SHARE_KEYS) },
            why: 'set sharing key',
          };
    }
    case 'ports':
      return { kind: 'service-apply', service: { ...s, ports: randomPorts(rng) }, why: 'change ports' };
    case 'etp':
      return {
        kind: 'service-apply',
        service: { ...s, etp: s.etp === 'Cluster' ? 'Local' : 'Cluster' },
        why: 'toggle externalTrafficPolicy',
      };
    case 'policy': {
      const policy = rng.pick<FamilyPolicy>(
        ['SingleStack', 'PreferDualStack', 'RequireDualStack'].filter(
          (x) => x !== s.policy,
        ) as FamilyPolicy[],
      );
      return {
        kind: 'service-apply',
        service: { ...s, policy },
        why: `ipFamilyPolicy ${s.policy} -> ${policy}`,
      };
    }
  }
}

/**
 * The model after `op`. `refused` = the API refused the op (it then changed nothing), except a
 * refused Service change, after which the driver deletes the Service (the model drops it).
 */
export function applyToModel(model: Model, op: Op, refused: boolean): Model {
  const serial = model.serial + 1;
  const pools = new Map(model.pools);
  const adverts = new Map(model.adverts);
  const services = new Map(model.services);
  switch (op.kind) {
    case 'service-apply':
      if (refused) services.delete(op.service.name);
      else services.set(op.service.name, op.service);
      break;
    case 'service-delete':
      services.delete(op.name);
      break;
    case 'pool-apply':
      if (!refused) {
        const prev = pools.get(op.pool.name);
        // An edit keeps the original creation order (the object's age does not change).
        pools.set(op.pool.name, prev ? { ...op.pool, order: prev.order } : op.pool);
      }
      break;
    case 'pool-delete':
      pools.delete(op.name);
      break;
    case 'advert-apply':
      if (!refused) adverts.set(op.advert.name, op.advert);
      break;
    case 'advert-delete':
      adverts.delete(op.name);
      break;
    case 'chaos':
      break;
  }
  return { pools, adverts, services, serial };
}

/** The names of the Services whose address the user asked to change with this op. */
export function touchedBy(op: Op): string[] {
  if (op.kind === 'service-apply') return [op.service.name];
  if (op.kind === 'service-delete') return [op.name];
  return [];
}

export { eligible };
