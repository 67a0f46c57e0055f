import { describe, expect, it } from '@jest/globals';
import { buildPoolSet, Allocator } from '@metallb-ts/ipam';
import type { Service } from '@metallb-ts/k8s-runtime';
import { syncService, type ServiceOutcome } from '../src/sync-service.js';

const pools = (specs: [string, string[], boolean?][]) => {
  const { pools, errors } = buildPoolSet(specs.map(([name, addresses, autoAssign = true]) => ({ name, addresses, autoAssign, avoidBuggyIPs: false })));
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return pools;
};
const svc = (name: string, opts: { ips?: string[]; annotations?: Record<string, string>; type?: string; lbIP?: string; cls?: string } = {}): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'demo', name, annotations: opts.annotations ?? {}, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: {
    type: opts.type ?? 'LoadBalancer',
    ports: [{ port: 80, protocol: 'TCP' }],
    ipFamilies: ['IPv4'],
    ...(opts.lbIP ? { loadBalancerIP: opts.lbIP } : {}),
    ...(opts.cls ? { loadBalancerClass: opts.cls } : {}),
  },
  status: { loadBalancer: { ingress: (opts.ips ?? []).map((ip) => ({ ip })) } },
});
const reasons = (o: ServiceOutcome) => o.events.map((e) => e.reason);

describe('syncService: one allocator through named steps', () => {
  const a = new Allocator(pools([['small', ['203.0.113.200-203.0.113.201']], ['reserved', ['203.0.113.210/32'], false]]));

  it('s1: a new LoadBalancer service gets the first free address and an IPAllocated event', () => {
    const o = syncService('demo/s1', svc('s1'), a);
    expect(o.ingress).toEqual(['203.0.113.200']);
    expect(o.pool).toBe('small');
    expect(reasons(o)).toEqual(['IPAllocated']);
  });

  it('s1 again, now holding it: no change, no event (idempotent)', () => {
    const o = syncService('demo/s1', svc('s1', { ips: ['203.0.113.200'] }), a);
    expect(o.ingress).toEqual(['203.0.113.200']);
    expect(o.events).toEqual([]);
  });

  it('s2 cannot grab s1\'s IP by asking for it', () => {
    const o = syncService('demo/s2', svc('s2', { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.200' } }), a);
    expect(reasons(o)).toEqual(['AllocationFailed']);
    expect(o.events[0]?.message).toContain('203.0.113.200');
    expect(o.ingress).toBeUndefined();
  });

  it('s3 takes the last auto-assign address; s4 finds the pool exhausted, named in the event', () => {
    expect(syncService('demo/s3', svc('s3'), a).ingress).toEqual(['203.0.113.201']);
    const o = syncService('demo/s4', svc('s4'), a);
    expect(reasons(o)).toEqual(['AllocationFailed']);
    expect(o.events[0]?.message).toMatch(/small/);
  });

  it('s4 can still use a reserved (autoAssign: false) pool by naming it, with the legacy prefix too', () => {
    const o = syncService('demo/s4', svc('s4', { annotations: { 'metallb.universe.tf/address-pool': 'reserved' } }), a);
    expect(o.ingress).toEqual(['203.0.113.210']);
    expect(o.pool).toBe('reserved');
  });

  it('an unknown pool is refused with its name', () => {
    const o = syncService('demo/s5', svc('s5', { annotations: { 'metallb.io/address-pool': 'nope' } }), a);
    expect(reasons(o)).toEqual(['AllocationFailed']);
    expect(o.events[0]?.message).toContain('nope');
  });

  it('both spec.loadBalancerIP and the annotation: LoadBalancerFailed, nothing taken away', () => {
    const o = syncService('demo/s1', svc('s1', { ips: ['203.0.113.200'], lbIP: '203.0.113.200', annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.200' } }), a);
    expect(reasons(o)).toEqual(['LoadBalancerFailed']);
    expect(o.ingress).toBeUndefined();
    expect(a.assignment('demo/s1')?.ips).toEqual(['203.0.113.200']);
  });

  it('deleting s1 frees its address for the next service', () => {
    syncService('demo/s1', undefined, a);
    expect(a.assignment('demo/s1')).toBeUndefined();
    expect(syncService('demo/s6', svc('s6'), a).ingress).toEqual(['203.0.113.200']);
  });

  it('changing type away from LoadBalancer frees the address and clears what we wrote', () => {
    const o = syncService('demo/s6', svc('s6', { type: 'ClusterIP', ips: ['203.0.113.200'] }), a);
    expect(o).toEqual({ ingress: [], pool: null, events: [] });
    expect(a.assignment('demo/s6')).toBeUndefined();
  });

  it('another loadBalancerClass is not ours: untouched', () => {
    expect(syncService('demo/s7', svc('s7', { cls: 'other.example/lb', ips: ['198.51.100.7'] }), a)).toEqual({ events: [] });
  });
});

describe('syncService: restart keeps addresses', () => {
  it('a fresh allocator restores what services hold, in any order, and allocates around them', () => {
    const p = pools([['pool', ['203.0.113.0/30']]]);
    const held = [svc('b', { ips: ['203.0.113.2'] }), svc('a', { ips: ['203.0.113.0'] })];
    const a = new Allocator(p);
    for (const s of held) expect(syncService(`demo/${s.metadata!.name}`, s, a).events).toEqual([]);
    expect(syncService('demo/c', svc('c'), a).ingress).toEqual(['203.0.113.1']);
    expect(a.assignment('demo/b')?.ips).toEqual(['203.0.113.2']);
  });

  it('a contested address stays with the first holder; the second is told and moved', () => {
    const a = new Allocator(pools([['pool', ['203.0.113.0/30']]]));
    syncService('demo/first', svc('first', { ips: ['203.0.113.1'] }), a);
    const o = syncService('demo/second', svc('second', { ips: ['203.0.113.1'] }), a);
    expect(reasons(o)).toEqual(['ClearAssignment', 'IPAllocated']);
    expect(o.ingress).not.toContain('203.0.113.1');
    expect(a.assignment('demo/first')?.ips).toEqual(['203.0.113.1']);
  });

  it('an address that left every pool moves the service, with a reason', () => {
    const a = new Allocator(pools([['old', ['203.0.113.0/30']]]));
    syncService('demo/x', svc('x', { ips: ['203.0.113.1'] }), a);
    a.setPools(pools([['new', ['203.0.113.100/30']]]));
    const o = syncService('demo/x', svc('x', { ips: ['203.0.113.1'] }), a);
    expect(reasons(o)).toEqual(['ClearAssignment', 'IPAllocated']);
    expect(o.ingress).toEqual(['203.0.113.100']);
  });
});
