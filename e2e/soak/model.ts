// What the user asked, kept by the soak itself: pools, advertisements and Services as the soak
// applied them, and which pools the controller must be serving (valid, or its last valid
// version). Pure: no cluster, no I/O. The invariant checker compares the cluster against this.
import { parseEntry, spansOverlap } from './addresses.js';

export const SOAK_NAMESPACE = 'demo';
export const SOAK_SELECTOR = { app: 'demo' } as const;
export const OTHER_CLASS = 'example.com/not-metallb';

/** Eight-address blocks of the data segment the soak's pools are made of (none holds a lab address). */
export const V4_SLOTS: readonly string[] = [
  ...Array.from({ length: 8 }, (_, i) => 32 + i * 8),
  ...Array.from({ length: 9 }, (_, i) => 128 + i * 8),
].map((base) => `203.0.113.${base}/29`);
export const V6_SLOTS: readonly string[] = Array.from(
  { length: 8 },
  (_, i) => `2001:db8:1::${(0x100 + i * 8).toString(16)}/125`,
);

export interface ModelPool {
  readonly name: string;
  /** Creation order (a later pool loses an overlap, as the controller decides by age, then name). */
  readonly order: number;
  /** The addresses as last applied. */
  readonly entries: readonly string[];
  /** The last valid addresses (what a pool edited into an invalid state keeps serving). */
  readonly lastValid?: readonly string[];
  readonly autoAssign: boolean;
  /** Made to overlap another pool, or malformed: never to be served while it conflicts. */
  readonly kind: 'normal' | 'overlap' | 'garbage';
}

export interface ModelAdvert {
  readonly name: string;
  /** Pool names, or 'all' (no pool list: every pool). */
  readonly pools: readonly string[] | 'all';
}

export type ServiceType = 'LoadBalancer' | 'ClusterIP' | 'NodePort';
export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface ModelService {
  readonly name: string;
  readonly type: ServiceType;
  readonly lbClass?: string;
  readonly pool?: string;
  readonly requested?: string;
  readonly shareKey?: string;
  readonly etp: 'Cluster' | 'Local';
  readonly family: 'IPv4' | 'IPv6';
  readonly policy: FamilyPolicy;
  readonly ports: readonly number[];
}

export interface Model {
  readonly pools: ReadonlyMap<string, ModelPool>;
  readonly adverts: ReadonlyMap<string, ModelAdvert>;
  readonly services: ReadonlyMap<string, ModelService>;
  /** Counter for fresh names and creation order. */
  readonly serial: number;
}

export const emptyModel = (): Model => ({
  pools: new Map(),
  adverts: new Map(),
  services: new Map(),
  serial: 0,
});

const parses = (entries: readonly string[]): boolean =>
  entries.length > 0 && entries.every((e) => parseEntry(e) !== undefined);

/**
 * The addresses the controller must be serving for each pool right now: a pool whose current
 * addresses parse and overlap no older served pool serves them; one edited into an invalid state
 * serves its last valid addresses; a pool never valid serves nothing.
 */
export function servedPools(model: Model): Map<string, readonly string[]> {
  const served = new Map<string, readonly string[]>();
  const byAge = [...model.pools.values()].sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : 1));
  for (const p of byAge) {
    const clash = (entries: readonly string[]) => [...served.values()].some((s) => spansOverlap(s, entries));
    if (parses(p.entries) && !clash(p.entries)) served.set(p.name, p.entries);
    else if (p.lastValid && !clash(p.lastValid)) served.set(p.name, p.lastValid);
  }
  return served;
}

/** Whether a Service is the controller's to allocate (type LoadBalancer, no other class). */
export const eligible = (s: Pick<ModelService, 'type' | 'lbClass'>): boolean =>
  s.type === 'LoadBalancer' && s.lbClass === undefined;

/** Whether any advertisement announces the pool. */
export function advertised(model: Model, pool: string): boolean {
  return [...model.adverts.values()].some((a) => a.pools === 'all' || a.pools.includes(pool));
}

/** Slots no pool touches (served or not), so new and grown pools never overlap by accident. */
export function freeSlots(model: Model, slots: readonly string[]): string[] {
  const taken = [...model.pools.values()].map((p) => [...p.entries, ...(p.lastValid ?? [])]);
  return slots.filter((s) => !taken.some((t) => spansOverlap([s], t)));
}
