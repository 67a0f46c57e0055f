// The soak's invariants: what the cluster (read from the API server and the wire) must look like
// after every step, given what the user asked (the model). Pure.
import { entriesContain } from './addresses.js';
import { advertised, servedPools, type Model, type ModelService } from './model.js';

/** One Service as the API server shows it. */
export interface TruthService {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
  readonly lbClass?: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ports: readonly { port: number; protocol: string }[];
  readonly etp: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly ingress: readonly string[];
  /**
   * Whether its EndpointSlices hold an endpoint that is ready (or, with none ready, serving).
   * Without one a speaker must not announce it (MetalLB's rule). The lab's demo pods are always
   * ready, but kube-controller-manager writes the slices, and after a kube-apiserver restart it
   * can take tens of seconds to (its informers back off), so the wire is judged by the slices.
   */
  readonly hasEndpoints: boolean;
}

export interface Truth {
  readonly services: readonly TruthService[];
  /** Failure events (AllocationFailed, LoadBalancerFailed) by Service uid: their messages. */
  readonly failures: ReadonlyMap<string, readonly string[]>;
  /** The MACs that answered for each probed address (absent: the wire was not probed). */
  readonly wire?: ReadonlyMap<string, readonly string[]>;
  /** Components that are not running although nobody stopped them, with their log tails. */
  readonly crashed: readonly { name: string; log: string }[];
}

export interface Violation {
  readonly rule:
    | 'shared-illegally'
    | 'outside-pool'
    | 'no-address-no-reason'
    | 'address-changed'
    | 'stale-status'
    | 'arp-owners'
    | 'crashed';
  readonly detail: string;
}

export const POOL_ANNOTATION = 'metallb.io/ip-allocated-from-pool';
const FAILURE_REASONS = ['AllocationFailed', 'LoadBalancerFailed'] as const;
export { FAILURE_REASONS };

export const isEligible = (s: TruthService): boolean => s.type === 'LoadBalancer' && s.lbClass === undefined;

const annotation = (s: TruthService, name: string): string | undefined =>
  s.annotations[`metallb.io/${name}`] ?? s.annotations[`metallb.universe.tf/${name}`];

function backend(s: TruthService): string {
  if (s.etp !== 'Local') return 'Cluster';
  return `Local:${JSON.stringify(Object.entries(s.selector).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/** Why two Services may not hold one address (MetalLB's rules), or undefined when they may. */
export function whyNotShareable(a: TruthService, b: TruthService): string | undefined {
  const ka = annotation(a, 'allow-shared-ip') ?? '';
  const kb = annotation(b, 'allow-shared-ip') ?? '';
  if (ka === '' || kb === '') return 'not both carry an allow-shared-ip key';
  if (ka !== kb) return `keys differ (${ka}, ${kb})`;
  if (backend(a) !== backend(b)) return `backends differ (${backend(a)}, ${backend(b)})`;
  const clash = a.ports.find((p) => b.ports.some((q) => q.port === p.port && q.protocol === p.protocol));
  return clash ? `both use ${clash.protocol}/${clash.port}` : undefined;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/** The addresses the wire must answer for (exactly one MAC) and must not (none). */
export function expectedOnWire(
  model: Model,
  services: readonly TruthService[],
): { announced: string[]; silent: string[] } {
  const announced = new Set<string>();
  const held = new Set<string>();
  for (const s of services) {
    if (!isEligible(s)) continue;
    const pool = s.annotations[POOL_ANNOTATION];
    for (const ip of s.ingress) {
      held.add(ip);
      if (pool !== undefined && advertised(model, pool) && s.hasEndpoints) announced.add(ip);
    }
  }
  return { announced: [...announced].sort(), silent: [...held].filter((ip) => !announced.has(ip)).sort() };
}

export interface CheckInput {
  readonly model: Model;
  /** The truth after the previous step (undefined at the first check). */
  readonly prev: Truth | undefined;
  readonly now: Truth;
  /** Services the user changed (or deleted) in this step: their addresses may change. */
  readonly touched: ReadonlySet<string>;
  /** MACs of the lab nodes' data interfaces. */
  readonly nodeMacs: ReadonlySet<string>;
}

const familyOf = (ip: string): 4 | 6 => (ip.includes(':') ? 6 : 4);

/** `after` keeps every address of `before` and adds only addresses of families it lacked. */
export function gainsFamilyOnly(before: readonly string[], after: readonly string[]): boolean {
  const had = new Set(before.map(familyOf));
  return (
    before.every((ip) => after.includes(ip)) &&
    after.filter((ip) => !before.includes(ip)).every((ip) => !had.has(familyOf(ip)))
  );
}

/**
 * Whether what `s` holds is what the user last asked of it: its requested addresses, its
 * requested pool, a single stack's family. A Service that does not may still change: the user
 * asked in an earlier step, and the controller acts on it late when it was restarting then (a
 * settle sees the API stable before the new leader has read the change).
 */
export function holdsWhatWasAsked(asked: ModelService, s: TruthService): boolean {
  if (asked.requested !== undefined) {
    // All of them: holding part of a request (one family of two, the other outside the pool)
    // is not holding it, and the controller rightly clears it once it reads the request.
    const wanted = new Set(asked.requested.split(',').map((ip) => ip.trim()));
    if (s.ingress.length !== wanted.size || !s.ingress.every((ip) => wanted.has(ip))) return false;
  }
  if (asked.pool !== undefined && s.annotations[POOL_ANNOTATION] !== asked.pool) return false;
  // RequireDualStack with one family is not what was asked (seed 503193563, step 7370).
  if (asked.policy === 'RequireDualStack' && new Set(s.ingress.map(familyOf)).size < 2) return false;
  if (
    asked.policy === 'SingleStack' &&
    !s.ingress.every((ip) => familyOf(ip) === (asked.family === 'IPv6' ? 6 : 4))
  )
    return false;
  return true;
}

export function checkInvariants(input: CheckInput): Violation[] {
  const { model, prev, now, touched, nodeMacs } = input;
  const served = servedPools(model);
  const out: Violation[] = [];
  const v = (rule: Violation['rule'], detail: string) => out.push({ rule, detail });

  // Nobody holds an address it may not share.
  const holders = new Map<string, TruthService[]>();
  for (const s of now.services) for (const ip of s.ingress) holders.set(ip, [...(holders.get(ip) ?? []), s]);
  for (const [ip, hs] of holders) {
    for (let i = 0; i < hs.length; i++)
      for (let j = i + 1; j < hs.length; j++) {
        const why = whyNotShareable(hs[i]!, hs[j]!);
        if (why) v('shared-illegally', `${ip} is held by ${hs[i]!.name} and ${hs[j]!.name}: ${why}`);
      }
  }

  for (const s of now.services) {
    const pool = s.annotations[POOL_ANNOTATION];
    if (!isEligible(s)) {
      if (s.ingress.length > 0 && s.type !== 'LoadBalancer')
        v('stale-status', `${s.name} is ${s.type} but its status still shows ${s.ingress.join(',')}`);
      if (s.lbClass !== undefined && pool !== undefined)
        v(
          'stale-status',
          `${s.name} has loadBalancerClass ${s.lbClass} but carries ${POOL_ANNOTATION}=${pool}`,
        );
      continue;
    }
    if (s.ingress.length > 0) {
      const entries = pool === undefined ? undefined : served.get(pool);
      if (entries === undefined)
        v(
          'outside-pool',
          `${s.name} holds ${s.ingress.join(',')} from pool ${pool ?? '(no annotation)'}, which is not served`,
        );
      else
        for (const ip of s.ingress)
          if (!entriesContain(entries, ip))
            v('outside-pool', `${s.name} holds ${ip}, outside its pool ${pool} (${entries.join(' ')})`);
    } else if ((now.failures.get(s.uid) ?? []).length === 0) {
      v(
        'no-address-no-reason',
        `${s.name} (uid ${s.uid}) has no address and no ${FAILURE_REASONS.join('/')} event`,
      );
    }
  }

  // Nobody's address changes unless the user asked or its pool stopped holding it.
  if (prev) {
    const before = new Map(prev.services.map((s) => [s.uid, s]));
    for (const s of now.services) {
      const was = before.get(s.uid);
      if (!was || was.ingress.length === 0 || touched.has(s.name) || sameSet(was.ingress, s.ingress))
        continue;
      const asked = model.services.get(s.name);
      if (asked && !holdsWhatWasAsked(asked, was)) continue;
      // PreferDualStack asked for both families: the controller adds the one its pool could not
      // give before as soon as it can, keeping what the Service holds (ipam's addMissingFamily).
      if (asked?.policy === 'PreferDualStack' && gainsFamilyOnly(was.ingress, s.ingress)) continue;
      const wasPool = was.annotations[POOL_ANNOTATION];
      const entries = wasPool === undefined ? undefined : served.get(wasPool);
      const poolLostIt = entries === undefined || was.ingress.some((ip) => !entriesContain(entries, ip));
      if (!poolLostIt)
        v(
          'address-changed',
          `${s.name}: ${was.ingress.join(',') || '-'} -> ${s.ingress.join(',') || '-'} although nobody asked and pool ${wasPool} still holds it`,
        );
    }
  }

  // Every announced address is answered by exactly one lab node; the others by nobody.
  if (now.wire) {
    const { announced, silent } = expectedOnWire(model, now.services);
    for (const ip of announced) {
      const macs = now.wire.get(ip) ?? [];
      if (macs.length !== 1 || !nodeMacs.has(macs[0]!))
        v(
          'arp-owners',
          `${ip} is announced but answered by ${macs.length} MAC(s): ${macs.join(' ') || 'none'}`,
        );
    }
    for (const ip of silent) {
      const macs = now.wire.get(ip) ?? [];
      if (macs.length > 0)
        v('arp-owners', `${ip} is in no advertised pool but answered by ${macs.join(' ')}`);
    }
  }

  for (const c of now.crashed) v('crashed', `${c.name} exited unexpectedly; log tail:\n${c.log}`);
  return out;
}
