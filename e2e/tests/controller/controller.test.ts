import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { resetClusterObjects } from '../../src/lab.js';
import { sleep, waitFor } from '../../src/wait-for.js';
import { ControllerHarness, ipPool, ips, lbService, type Svc } from './harness.js';

/*
 * The real controller binary, as its ServiceAccount, against the real API server (dual-stack:
 * service CIDRs 198.51.100.128/25 and 2001:db8:ffff::/112). No network namespaces: allocation
 * only. Each step prints services, events, pools and the controller log when it fails.
 */

let cp: ControlPlane;
let h: ControllerHarness;
const NS = `ctl-e2e-${Date.now().toString(36)}`;
const TEAM_NS = `${NS}-team`;
const OTHER_NS = `${NS}-other`;

const POOL_A = Array.from({ length: 10 }, (_, i) => `203.0.113.${100 + i}`);
const inPoolA = (ip: string) => POOL_A.includes(ip);
const inDualV4 = (ip: string) => /^203\.0\.113\.(12[0-7])$/.test(ip);
const inDualV6 = (ip: string) => ip.startsWith('2001:db8:1:1::');

beforeAll(async () => {
  cp = labControlPlane();
  const dir = cp.dir;
  // Pools, advertisements and leases left by earlier tests would change what gets allocated.
  await resetClusterObjects(cp);
  await cp.kubectlOk(['create', 'namespace', NS]);
  h = new ControllerHarness(cp, dir, NS);
  await h.apply([
    ipPool('pool-a', ['203.0.113.100-203.0.113.109']),
    ipPool('pool-b-dual', ['203.0.113.120/29', '2001:db8:1:1::/120']),
    ipPool('pool-c', ['203.0.113.130-203.0.113.131'], false),
    ipPool('pool-d', ['203.0.113.140/32'], false),
    {
      ...(ipPool('pool-team', ['203.0.113.160/31']) as object),
      spec: {
        addresses: ['203.0.113.160/31'],
        serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: 'blue' } }] },
      },
    },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'AddressPool',
      metadata: { name: 'legacy-l2', namespace: INSTALL_NAMESPACE },
      spec: { protocol: 'layer2', addresses: ['203.0.113.150/31'], autoAssign: false },
    },
  ]);
  await h.start();
}, 120_000);

afterAll(async () => {
  await h?.stop();
  // Services go first and synchronously: a namespace terminates in the background, and a Service
  // still in it (its pool deleted below) would be moved into the next test's pool by that test's
  // controller, taking addresses the next test expects free.
  for (const ns of [NS, TEAM_NS, OTHER_NS]) {
    await cp?.kubectl(['-n', ns, 'delete', 'services', '--all', '--wait=true', '--timeout=60s']);
    await cp?.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  }
  await cp?.kubectl(['-n', INSTALL_NAMESPACE, 'delete', 'ipaddresspools.metallb.io', '--all']);
  await cp?.kubectl(['-n', INSTALL_NAMESPACE, 'delete', 'addresspools.metallb.io', '--all']);
}, 60_000);

describe('controller against the real API server', () => {
  it('a restart keeps every address; a service created while it was down gets one nobody holds', async () => {
    // Created in reverse name order: a restart that allocated by listing order would reshuffle.
    const names = ['svc-f', 'svc-e', 'svc-d', 'svc-c', 'svc-b', 'svc-a'];
    for (const name of names) {
      await h.apply([lbService(NS, name)]);
      await h.step(`${name} gets an address`, () =>
        h.waitIngress(name, (x) => x.length === 1 && inPoolA(x[0]!), 'one address from pool-a'),
      );
    }
    await h.step('svc-d is deleted (its address becomes free)', async () => {
      await cp.kubectlOk(['-n', NS, 'delete', 'service', 'svc-d', '--wait=true']);
    });
    const before = new Map((await h.services()).map((s) => [s.metadata.name, ips(s)]));
    expect(before.size).toBe(5);
    expect(new Set([...before.values()].flat()).size).toBe(5);

    // While it is down, a new service arrives. A planned stop hands the leader lease back, so
    // the next controller does not wait out the 15 s lease.
    await h.stop();
    try {
      const holder = await cp.kubectlOk([
        '-n',
        INSTALL_NAMESPACE,
        'get',
        'lease',
        'metallb-controller',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ]);
      expect(holder.trim()).toBe('');
      await h.apply([lbService(NS, 'late')]);
    } finally {
      await h.start();
    }

    const late = await h.step('the service created while the controller was down gets an address', () =>
      h.waitIngress('late', (x) => x.length === 1, 'an address'),
    );
    await h.step("nothing moved, and the late address is nobody else's", async () => {
      expect(inPoolA(late[0]!)).toBe(true);
      expect([...before.values()].flat()).not.toContain(late[0]);
      // Give a reshuffle (if any) time to show.
      await sleep(2_000);
      const after = new Map((await h.services()).map((s) => [s.metadata.name, ips(s)]));
      for (const [name, was] of before) expect({ name, ips: after.get(name) }).toEqual({ name, ips: was });
      const moved = (await h.events()).filter(
        (e) => e.reason === 'ClearAssignment' || (e.reason === 'IPAllocated' && e.count !== 1),
      );
      expect(moved).toEqual([]);
    });
  }, 120_000);

  it('a contested address after a restart stays with the older service; the younger one is moved, with a reason', async () => {
    const kept = ips(await h.service('svc-a'))[0]!;
    await h.stop();
    try {
      // While the controller is down, a younger service claims svc-a's address in its status.
      await h.apply([lbService(NS, 'squatter', { ports: [81] })]);
      await cp.kubectlOk([
        '-n',
        NS,
        'patch',
        'service',
        'squatter',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: kept }] } } }),
      ]);
    } finally {
      await h.start();
    }
    await h.step('squatter moves away with ClearAssignment; svc-a keeps its address', async () => {
      const moved = await h.waitIngress(
        'squatter',
        (x) => x.length === 1 && x[0] !== kept,
        `an address other than ${kept}`,
      );
      const clear = await h.waitEvent('squatter', 'ClearAssignment');
      expect(clear.message).toContain(kept);
      expect(clear.message).toContain(`${NS}/svc-a`);
      expect(ips(await h.service('svc-a'))).toEqual([kept]);
      const others = (await h.services()).filter((s) => s.metadata.name !== 'squatter').flatMap(ips);
      expect(others).not.toContain(moved[0]);
    });
  }, 120_000);

  it('serviceAllocation namespaceSelectors follow namespace labels (from the namespaces cache)', async () => {
    await cp.kubectlOk(['create', 'namespace', TEAM_NS]);
    await cp.kubectlOk(['label', 'namespace', TEAM_NS, 'team=blue']);
    await cp.kubectlOk(['create', 'namespace', OTHER_NS]);
    await h.apply([
      lbService(TEAM_NS, 'blue'),
      lbService(OTHER_NS, 'hopeful', { annotations: { 'metallb.io/address-pool': 'pool-team' } }),
    ]);
    const inTeam = (ip: string | undefined) => ip === '203.0.113.160' || ip === '203.0.113.161';
    await h.step(
      'a service in the labelled namespace gets pool-team automatically (priority 1)',
      async () => {
        const got = await h.forNamespace(TEAM_NS).waitIngress('blue', (x) => x.length === 1, 'an address');
        expect(inTeam(got[0])).toBe(true);
      },
    );
    const other = h.forNamespace(OTHER_NS);
    await h.step('a service in an unlabelled namespace may not use pool-team, even by name', () =>
      other.waitEvent('hopeful', 'AllocationFailed', (e) => e.message.includes('pool-team')),
    );
    await cp.kubectlOk(['label', 'namespace', OTHER_NS, 'team=blue']);
    await h.step('labelling its namespace lets it in', async () => {
      const got = await other.waitIngress('hopeful', (x) => x.length === 1, 'an address');
      expect(inTeam(got[0])).toBe(true);
    });
  }, 60_000);

  it('allow-shared-ip: same key and disjoint ports share one IP, overlapping ports do not', async () => {
    const key = { 'metallb.io/allow-shared-ip': 'web' };
    await h.apply([lbService(NS, 'share-http', { ports: [80], annotations: key })]);
    const [shared] = await h.step('share-http gets an address', () =>
      h.waitIngress('share-http', (x) => x.length === 1, 'an address'),
    );
    await h.apply([
      lbService(NS, 'share-https', { ports: [443, 8443], annotations: key }),
      lbService(NS, 'share-clash', { ports: [80], annotations: key }),
    ]);
    await h.step('share-https (443, 8443) lands on the same IP', () =>
      h.waitIngress('share-https', (x) => x.length === 1 && x[0] === shared, `exactly ${shared}`),
    );
    await h.step('share-clash (80 again) gets another IP', async () => {
      const [other] = await h.waitIngress('share-clash', (x) => x.length === 1, 'an address');
      expect(other).not.toBe(shared);
      const all = (await h.services())
        .filter((s) => s.metadata.name !== 'share-clash' && s.metadata.name !== 'share-https')
        .flatMap(ips);
      expect(all).not.toContain(other);
    });
  }, 60_000);

  it('RequireDualStack gets one IPv4 and one IPv6 address from one pool', async () => {
    await h.apply([
      lbService(NS, 'dual', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }),
    ]);
    const got = await h.step('dual gets two addresses', () =>
      h.waitIngress('dual', (x) => x.length === 2, 'two addresses'),
    );
    await h.step('one per family, both from pool-b-dual, recorded in the annotation', async () => {
      const s = (await h.service('dual'))!;
      expect(s.spec.ipFamilies).toEqual(['IPv4', 'IPv6']);
      expect(got.filter(inDualV4)).toHaveLength(1);
      expect(got.filter(inDualV6)).toHaveLength(1);
      expect(s.metadata.annotations?.['metallb.io/ip-allocated-from-pool']).toBe('pool-b-dual');
      await h.waitEvent('dual', 'IPAllocated', (e) => got.every((ip) => e.message.includes(ip)));
    });
  }, 60_000);

  it('pool status and metrics count what services hold (a shared IP once)', async () => {
    await h.step('pool-a and pool-b-dual status match the services', async () => {
      const services = await h.services();
      const heldA = new Set(services.flatMap(ips).filter(inPoolA)).size;
      await h.waitForPool('pool-a', {
        assignedIPv4: heldA,
        availableIPv4: 10 - heldA,
        assignedIPv6: 0,
        availableIPv6: 0,
      });
      await h.waitForPool('pool-b-dual', {
        assignedIPv4: 1,
        availableIPv4: 7,
        assignedIPv6: 1,
        availableIPv6: 255,
      });
      await h.waitForPool('pool-d', { assignedIPv4: 0, availableIPv4: 1, assignedIPv6: 0, availableIPv6: 0 });
      await h.waitForPool(
        'legacy-l2',
        { assignedIPv4: 0, availableIPv4: 2, assignedIPv6: 0, availableIPv6: 0 },
        'addresspool',
      );
      expect(await h.metric('metallb_allocator_addresses_in_use_total', 'pool-a')).toBe(heldA);
      expect(await h.metric('metallb_allocator_addresses_total', 'pool-a')).toBe(10);
      expect(await h.metric('metallb_allocator_ipv6_addresses_total', 'pool-b-dual')).toBe(256);
      expect(await h.metric('metallb_allocator_addresses_in_use_total', 'pool-b-dual')).toBe(2);
    });
    await h.step(
      "the controller records each valid pool's spec (survives a restart while a pool is invalid)",
      async () => {
        await waitFor(
          'pool-a to carry metallb.io/last-valid-spec',
          async () => {
            const out = await cp.kubectlOk([
              '-n',
              INSTALL_NAMESPACE,
              'get',
              'ipaddresspool',
              'pool-a',
              '-o',
              'json',
            ]);
            const pool = JSON.parse(out) as { metadata: { annotations?: Record<string, string> } };
            const recorded = pool.metadata.annotations?.['metallb.io/last-valid-spec'];
            return recorded?.includes('203.0.113.100-203.0.113.109')
              ? { done: true, value: recorded }
              : { done: false, observed: pool.metadata.annotations ?? 'no annotations' };
          },
          { timeoutMs: 15_000 },
        );
      },
    );
    await h.step('kubectl get ipaddresspools shows the counts', async () => {
      const out = await cp.kubectlOk(['-n', INSTALL_NAMESPACE, 'get', 'ipaddresspools', 'pool-b-dual']);
      expect(out).toMatch(/pool-b-dual\s+true\s+1\s+7\s+1\s+255\s/);
    });
  }, 60_000);

  it("a pool edit that removes a service's address moves it, with events; the legacy prefix is warned about once", async () => {
    await h.apply([
      lbService(NS, 'mover', { annotations: { 'metallb.universe.tf/address-pool': 'pool-c' } }),
    ]);
    const [first] = await h.step('mover gets the first pool-c address', () =>
      h.waitIngress('mover', (x) => x.length === 1, 'an address'),
    );
    expect(first).toBe('203.0.113.130');
    await h.step('deprecatedAnnotation names the legacy key', () =>
      h.waitEvent(
        'mover',
        'deprecatedAnnotation',
        (e) => e.type === 'Warning' && e.message.includes('metallb.universe.tf/address-pool'),
      ),
    );
    await h.apply([ipPool('pool-c', ['203.0.113.131-203.0.113.132'], false)]);
    await h.step('mover moves to 203.0.113.131 with ClearAssignment and IPAllocated', async () => {
      await h.waitIngress(
        'mover',
        (x) => x.length === 1 && x[0] === '203.0.113.131',
        'exactly 203.0.113.131',
      );
      const clear = await h.waitEvent('mover', 'ClearAssignment');
      expect(clear.message).toContain('203.0.113.130');
      await h.waitEvent('mover', 'IPAllocated', (e) => e.message.includes('203.0.113.131'));
      expect((await h.service('mover'))?.metadata.annotations?.['metallb.io/ip-allocated-from-pool']).toBe(
        'pool-c',
      );
    });
    await h.step('the deprecation was told once, despite the resync the pool edit caused', async () => {
      await sleep(1_000);
      const notices = (await h.events('mover')).filter((e) => e.reason === 'deprecatedAnnotation');
      expect(notices.map((e) => e.count ?? 1)).toEqual([1]);
    });
  }, 60_000);

  it('changing type away from LoadBalancer frees the address for a waiting service', async () => {
    const pool = { 'metallb.io/address-pool': 'pool-d' };
    await h.apply([lbService(NS, 'leaver', { annotations: pool })]);
    await h.step('leaver holds 203.0.113.140', () =>
      h.waitIngress('leaver', (x) => x[0] === '203.0.113.140', 'exactly 203.0.113.140'),
    );
    await h.apply([lbService(NS, 'waiter', { annotations: pool })]);
    await h.step('waiter is told pool-d is exhausted', () =>
      h.waitEvent('waiter', 'AllocationFailed', (e) => e.message.includes('pool-d')),
    );
    await h.step('pool-d status: 1 of 1 in use', () =>
      h.waitForPool('pool-d', { assignedIPv4: 1, availableIPv4: 0, assignedIPv6: 0, availableIPv6: 0 }),
    );
    await cp.kubectlOk([
      '-n',
      NS,
      'patch',
      'service',
      'leaver',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { type: 'ClusterIP' } }),
    ]);
    await h.step('leaver loses status and pool annotation; waiter gets the address', async () => {
      await h.waitIngress('waiter', (x) => x[0] === '203.0.113.140', 'exactly 203.0.113.140');
      const leaver = (await h.service('leaver')) as Svc;
      expect(ips(leaver)).toEqual([]);
      expect(leaver.metadata.annotations?.['metallb.io/ip-allocated-from-pool']).toBeUndefined();
    });
  }, 60_000);
});
