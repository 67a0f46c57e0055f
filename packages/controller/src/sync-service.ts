import { ANNOTATIONS, LEGACY_ANNOTATIONS } from '@metallb-ts/api';
import type { Allocator, Family, ServiceRequest } from '@metallb-ts/ipam';
import type { Service } from '@metallb-ts/k8s-runtime';
import { currentIngress, serviceIntent, type IntentOptions, type ServiceIntent } from './service-intent.js';

export interface ServiceEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * The controller's whole decision for one Service: what its status and pool annotation should
 * say, and which events tell the user why. Level-based — computed from the object and the
 * allocator, never from the kind of watch event — so running it twice changes nothing.
 */
export interface ServiceOutcome {
  /** Ingress addresses the status must carry ([] clears it); undefined = leave the status alone. */
  ingress?: string[];
  /** Pool to record in the `ip-allocated-from-pool` annotation; null removes it; undefined leaves it. */
  pool?: string | null;
  events: ServiceEvent[];
}

const sameSet = (a: readonly string[], b: readonly string[]) => {
  if (a.length !== b.length) return false;
  const sb = [...b].sort();
  return [...a].sort().every((v, i) => v === sb[i]);
};

/** Evidence that this controller (or MetalLB before it) wrote the Service's status. */
const hasOurPoolAnnotation = (svc: Service) => {
  const a = svc.metadata?.annotations ?? {};
  return ANNOTATIONS.ipAllocatedFromPool in a || LEGACY_ANNOTATIONS.ipAllocatedFromPool in a;
};

/**
 * Reserves in the allocator the addresses the Service's status already shows, when the allocator
 * does not hold exactly these for it. Requested IPs are left out of the request on purpose: the
 * point is to keep what is held; whether it still matches the request is decided by `allocate`.
 */
function keepCurrent(key: string, current: string[], request: ServiceRequest, allocator: Allocator) {
  const held = allocator.assignment(key);
  if (current.length === 0 || (held && sameSet(held.ips, current))) return { ok: true as const };
  const restored = allocator.assign(key, current, { ...request, requestedIPs: [] });
  return restored.ok ? { ok: true as const } : { ok: false as const, message: restored.error.message };
}

/**
 * The request under which a Service keeps exactly the addresses it holds: families and policy
 * follow those addresses, and neither requested IPs nor a pool annotation narrow it. What stays
 * from the Service's own request is who it is (namespace, labels: a pool's serviceAllocation) and
 * how it shares (sharing conflicts still decide who keeps a contested address).
 */
export function holdingRequest(request: ServiceRequest, held: readonly string[]): ServiceRequest {
  const families = held.map((ip) => (ip.includes(':') ? 6 : 4) as Family);
  const { pool: _ignored, ...rest } = request;
  return {
    ...rest,
    requestedIPs: [],
    families,
    familyPolicy: families.length === 2 ? 'RequireDualStack' : 'SingleStack',
  };
}

/**
 * Restart step: takes back the addresses a Service holds, and nothing else (no allocation), so
 * that restoring every holder before allocating anything means a restart never reshuffles IPs.
 * Whether the Service's current request is valid, or still fits these addresses, is not asked
 * here: the running controller keeps them until the Service's sync decides (LoadBalancerFailed
 * keeps them; a request they no longer fit moves the Service), and a restart must leave the same
 * state for that sync. Returns false when the Service holds addresses it cannot keep (outside
 * every pool, or held by an earlier restored service); its normal sync then says why.
 */
export function restoreService(
  key: string,
  svc: Service,
  allocator: Allocator,
  opts: IntentOptions = {},
): boolean {
  const intent = serviceIntent(svc, opts);
  if (intent.kind === 'ignore') return true;
  return keepCurrent(key, intent.current, holdingRequest(intent.request, intent.current), allocator).ok;
}

/** `intent` is the Service's serviceIntent when the caller computed it already (once per sync). */
export function syncService(
  key: string,
  svc: Service | undefined,
  allocator: Allocator,
  opts: IntentOptions = {},
  intent: ServiceIntent | undefined = svc && serviceIntent(svc, opts),
): ServiceOutcome {
  if (!svc || !intent) {
    allocator.release(key);
    return { events: [] };
  }
  const current = currentIngress(svc);

  if (intent.kind === 'ignore') {
    const held = allocator.assignment(key);
    allocator.release(key);
    // Only clear what we wrote: another load balancer may own this Service's status. A Service
    // that stopped being a LoadBalancer and carries our pool annotation was ours, even if this
    // process never held it (the change happened while the controller was down).
    const ours = held !== undefined || (intent.notOurs === 'type' && hasOurPoolAnnotation(svc));
    if (!ours) return { events: [] };
    // pool: null is free when the annotation is already gone (applyOutcome writes only differences).
    const outcome: ServiceOutcome = { pool: null, events: [] };
    if (current.length > 0) outcome.ingress = [];
    return outcome;
  }

  const events: ServiceEvent[] = [];
  const kept = keepCurrent(key, current, intent.request, allocator);
  if (!kept.ok) {
    events.push({
      type: 'Warning',
      reason: 'ClearAssignment',
      message: `current address ${current.join(',')} cannot be kept: ${kept.message}`,
    });
  }

  if (intent.kind === 'invalid') {
    // Keep whatever the Service holds: a typo in an annotation must not take a live VIP away.
    events.push({ type: 'Warning', reason: 'LoadBalancerFailed', message: intent.reason });
    events.push(...dropIllegalShare(key, intent.request, allocator));
    return settle(current, allocator.assignment(key), events);
  }

  const result = allocator.allocate(key, intent.request);
  if (!result.ok) {
    if (result.error.reason === 'InvalidRequest') {
      // A request that is wrong in itself changes nothing in the allocator, so what is held stays.
      events.push({
        type: 'Warning',
        reason: 'LoadBalancerFailed',
        message: `Invalid request for "${key}": ${result.error.message}`,
      });
      events.push(...dropIllegalShare(key, intent.request, allocator));
      return settle(current, allocator.assignment(key), events);
    }
    // A failed allocate may have released the previous assignment (it no longer matched the
    // request): the status must not keep advertising an address nobody reserves any more.
    const still = allocator.assignment(key);
    const dropped = current.filter((ip) => !still?.ips.includes(ip));
    if (dropped.length > 0 && !events.some((e) => e.reason === 'ClearAssignment')) {
      events.push({
        type: 'Warning',
        reason: 'ClearAssignment',
        message: `current address ${dropped.join(',')} released: the service's request cannot be met with it`,
      });
    }
    events.push({
      type: 'Warning',
      reason: 'AllocationFailed',
      message: `Failed to allocate IP for "${key}": ${result.error.message}`,
    });
    return settle(current, still, events);
  }
  const { ips, pool } = result.value;
  if (!sameSet(ips, current)) {
    events.push({ type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ${JSON.stringify(ips)}` });
  }
  return { ingress: ips, pool, events };
}

/**
 * An invalid request keeps what the Service holds, except an address it may no longer share:
 * the same edit may have changed its sharing key or traffic policy, and two Services whose
 * backends differ must not keep one address (their speakers could elect different nodes for
 * it). The held addresses are placed again under what the request still says about sharing; a
 * sharing conflict lets them go. Returns the event saying so, or nothing.
 */
function dropIllegalShare(key: string, request: ServiceRequest, allocator: Allocator): ServiceEvent[] {
  const held = allocator.assignment(key);
  if (held === undefined) return [];
  const again = allocator.assign(key, held.ips, holdingRequest(request, held.ips));
  if (again.ok || again.error.reason !== 'AddressInUse') return [];
  allocator.release(key);
  return [
    {
      type: 'Warning',
      reason: 'ClearAssignment',
      message: `current address ${held.ips.join(',')} released: ${again.error.message}`,
    },
  ];
}

/**
 * The outcome when no new allocation happened: the status follows what the allocator holds. The
 * pool goes along even when the addresses stay: a pool change can move a held address to
 * another pool (an overlapping pool takes over when the one it overlapped is deleted), and the
 * speakers announce by that annotation (applyOutcome writes only what differs).
 */
function settle(
  current: string[],
  held: { ips: string[]; pool: string } | undefined,
  events: ServiceEvent[],
): ServiceOutcome {
  const ips = held?.ips ?? [];
  if (sameSet(ips, current)) return held ? { pool: held.pool, events } : { events };
  return { ingress: ips, pool: held ? held.pool : null, events };
}
