import type { Allocator } from '@metallb-ts/ipam';
import type { Service } from '@metallb-ts/k8s-runtime';
import { serviceIntent, type IntentOptions } from './service-intent.js';

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

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

export function syncService(
  key: string,
  svc: Service | undefined,
  allocator: Allocator,
  opts: IntentOptions = {},
): ServiceOutcome {
  if (!svc) {
    allocator.release(key);
    return { events: [] };
  }
  const intent = serviceIntent(svc, opts);
  const current = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));

  if (intent.kind === 'ignore') {
    const held = allocator.assignment(key);
    allocator.release(key);
    // Only clear what we wrote: another load balancer may own this Service's status.
    if (held && current.length > 0) return { ingress: [], pool: null, events: [] };
    return { events: [] };
  }
  if (intent.kind === 'invalid') {
    // Keep whatever the Service holds: a typo in an annotation must not take a live VIP away.
    return { events: [{ type: 'Warning', reason: 'LoadBalancerFailed', message: intent.reason }] };
  }

  const events: ServiceEvent[] = [];
  const held = allocator.assignment(key);
  if (current.length > 0 && !(held && sameSet(held.ips, current))) {
    const restored = allocator.assign(key, current, intent.request);
    if (!restored.ok) {
      events.push({
        type: 'Warning',
        reason: 'ClearAssignment',
        message: `current address ${current.join(',')} cannot be kept: ${restored.error.message}`,
      });
    }
  }
  const result = allocator.allocate(key, intent.request);
  if (!result.ok) {
    events.push({ type: 'Warning', reason: 'AllocationFailed', message: `Failed to allocate IP for "${key}": ${result.error.message}` });
    const still = allocator.assignment(key)?.ips ?? [];
    return sameSet(still, current) ? { events } : { ingress: still, pool: still.length ? undefined : null, events };
  }
  const { ips, pool } = result.value;
  if (!sameSet(ips, current)) {
    events.push({ type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ${JSON.stringify(ips)}` });
  }
  return { ingress: ips, pool, events };
}
